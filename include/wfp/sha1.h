/*
 * sha1.h - SHA-1 of a buffer, as hex; used only to name Lua scripts for
 * EVALSHA (the same digest Redis computes), never for security.
 */
#ifndef WFP_SHA1_H
#define WFP_SHA1_H

#include <stddef.h>

/* Writes the 40 hex digits of SHA-1(data[0..len)) and a NUL into out[41]. */
void wfp_sha1_hex(const void *data, size_t len, char out[41]);

#endif
