/* tkr_p11_posix.h — loading a PKCS#11 module on Linux and macOS.
 *
 * The library's PKCS#11 signer takes a module's function table; opening
 * the shared object is an OS service, so it lives here. */
#ifndef TKR_P11_POSIX_H
#define TKR_P11_POSIX_H

/* dlopen path and call its C_GetFunctionList. On success *handle and *fl
 * (the module's CK_FUNCTION_LIST) are set; on failure -1 with a one-line
 * reason in why (dlerror's text, or which step failed). */
int tkr_p11_posix_load(void **handle, void **fl, const char *path,
                       char *why, unsigned long why_size);

/* dlclose a handle from tkr_p11_posix_load (after C_Finalize). */
void tkr_p11_posix_unload(void *handle);

#endif
