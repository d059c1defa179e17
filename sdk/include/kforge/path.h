/* kforge/path.h: paths inside the target root (--root), resolved as a chroot would. */
#pragma once

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Resolves PATH (absolute, as seen inside ROOT) to a host path, following symlinks the
 * way the kernel would inside a chroot: an absolute link target starts again at ROOT,
 * ".." never climbs above it. The last component need not exist (then it is joined
 * as is). Returns 0 and a malloc'd string in *out, or a negative errno.
 */
int kforge_path_resolve(const char *root, const char *path, char **out);

/* Like kforge_path_resolve, but returns NULL unless the resolved path exists. */
char *kforge_path_find(const char *root, const char *path);

/* True when PATH inside ROOT exists (after resolving links). */
bool kforge_path_exists(const char *root, const char *path);

/*
 * Reads a whole file (host path) into a malloc'd NUL-terminated string; 0 or a negative errno.
 * Only regular files are read (-EINVAL for a FIFO, device, socket or folder, which is never
 * waited on) and at most 64 MiB (-EFBIG).
 */
int kforge_read_file(const char *path, char **out);

/* Joins parts with single slashes into a malloc'd string; the list ends with NULL. */
char *kforge_path_join(const char *first, ...) __attribute__((sentinel));

/* Host folders (paths already under the root, as a job hands them out). Since LIBKFORGE_0.2. */

/* True when PATH (a host path, links followed) is a folder; false for NULL. */
bool kforge_is_dir(const char *path);

/* Makes DIR and its missing parents (mode 0755, as mkdir -p); 0 or a negative errno. */
int kforge_mkdir_p(const char *dir);

/*
 * Removes DIR and everything below it, never following a link (a link inside, or DIR itself
 * being one, is removed, not what it points at); a missing DIR is fine. 0 or a negative errno.
 * Not a command, so plan mode does not record it: call it only where the plan already said so.
 */
int kforge_remove_tree(const char *dir);

#ifdef __cplusplus
}
#endif
