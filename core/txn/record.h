/* txn/record.h: install records, read and written by the transaction layer (record.c). */
#pragma once

#include <kforge/records.h>

#include "txn/txn.h"

void kf_record_free(struct kforge_record *r);
/*
 * Reads one record file (host path): 0, -ENOENT, or -EBADMSG when it is damaged (not a regular
 * file, unreadable, incomplete, a value that is not what it must be, a path outside the install
 * tree), with the reason in WHY (may be NULL).
 */
int kf_record_read(const char *host_path, struct kforge_record **out, char *why, size_t whysize);
/* The record as the INI text kf_record_read() reads back (malloc'd). */
char *kf_record_text(const struct kforge_record *r);
int kf_record_add_replaced(struct kforge_record *r, const char *path, const char *sha256, const char *backup);
/* Host path of the record of MODULE for KERNEL. */
char *kf_record_file(const struct kf_state *st, const char *kernel, const char *module);
/* The records of KERNEL (NULL: every kernel), sorted by kernel and module. */
int kf_records_read(struct kf_state *st, const char *kernel, struct kforge_record ***out, size_t *n);
/* Appends the records NAME.conf of DIR to *LIST (*COUNT), their paths to PATHS (NULL: not kept);
 * a damaged one is skipped with a warning. */
int kf_records_read_dir(struct kforge_ctx *ctx, const char *dir, struct kforge_record ***list, size_t *count,
			struct kf_strv *paths);
enum kforge_record_state kf_record_check(const struct kf_state *st, const struct kforge_record *rec);
/* Does depmod's modules.dep resolve the record's module name to its file (not only "nothing else")? */
bool kf_record_resolves(const struct kf_state *st, const struct kforge_record *rec);
