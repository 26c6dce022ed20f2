/* cc.h — the compiler attributes the library uses, spelled so that a C11
 * compiler without them (a firmware team's own toolchain) still builds
 * the code unchanged. Internal. */
#ifndef TKR_CC_H
#define TKR_CC_H

/* Keep a function out of line: where GCC's link-time inlining made the
 * device image larger (measured per use, see port/baremetal/README.md). */
#if defined(__GNUC__)
#define TKR_NOINLINE __attribute__((noinline))
#else
#define TKR_NOINLINE
#endif

#endif
