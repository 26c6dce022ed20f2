/* p11_posix.c — dlopen of a PKCS#11 module. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "tkr_p11_posix.h"

int tkr_p11_posix_load(void **handle, void **fl, const char *path,
                       char *why, unsigned long why_size)
{
    CK_C_GetFunctionList get;
    CK_FUNCTION_LIST *list = NULL;
    const char *err;
    void *h;
    CK_RV rv;

    *handle = NULL;
    *fl = NULL;
    /* RTLD_LOCAL: two modules may export the same PKCS#11 symbols. */
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        err = dlerror();
        snprintf(why, why_size, "%s", err != NULL ? err : "dlopen failed");
        return -1;
    }
    /* POSIX: a data pointer from dlsym converts to a function pointer. */
    *(void **)&get = dlsym(h, "C_GetFunctionList");
    if (get == NULL) {
        snprintf(why, why_size, "%s has no C_GetFunctionList: not a PKCS#11 module", path);
        dlclose(h);
        return -1;
    }
    rv = get(&list);
    if (rv != CKR_OK || list == NULL) {
        snprintf(why, why_size, "C_GetFunctionList of %s failed (0x%lx)", path,
                 (unsigned long)rv);
        dlclose(h);
        return -1;
    }
    *handle = h;
    *fl = list;
    return 0;
}

void tkr_p11_posix_unload(void *handle)
{
    if (handle != NULL)
        dlclose(handle);
}
