/* dkms/import.c: DKMS's packages taken over by kforge (kforge dkms import), and the warning when both manage one module. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "dkms/dkms.h"
#include "kernel/kernel.h"
#include "pipeline/steps.h"
#include "txn/txn.h"

static const char *const outcome_names[] = { "imported", "failed", "skipped", "planned" };

const char *kforge_dkms_outcome_name(enum kforge_dkms_outcome o)
{
	return (unsigned int)o < ARRAY_SIZE(outcome_names) ? outcome_names[o] : "?";
}

void kforge_dkms_results_free(struct kforge_dkms_result *results, size_t n)
{
	for (size_t i = 0; results && i < n; i++) {
		free(results[i].name);
		free(results[i].version);
		free(results[i].kernel);
		free(results[i].detail);
	}
	free(results);
}

int kforge_dkms_warn_same_name(struct kforge_job *job, const char *const *names)
{
	struct kforge_ctx *ctx = kforge_job_ctx(job);
	const char *kver = kforge_job_kernel(job);
	struct kforge_dkms_tree *t = NULL;
	if (!kver || kf_dkms_tree_read(kforge_job_root(job), kver, &t) < 0)
		return 0;
	struct kf_strv mine = { 0 };
	if (names) {
		for (size_t i = 0; names[i]; i++) {
			_cleanup_free_ char *m = kf_module_name_of(names[i]);
			if (m)
				kf_strv_push(&mine, m);
		}
	} else if (t->n) {
		struct kforge_record **recs = NULL;
		size_t n = 0;
		if (kforge_records_list(job, kver, &recs, &n) == 0)
			for (size_t i = 0; i < n; i++)
				kf_strv_push(&mine, recs[i]->module);
		kforge_records_free(recs, n);
	}
	int warned = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct kforge_dkms_entry *e = &t->entries[i];
		for (size_t j = 0; e->installed && j < e->n_modules; j++) {
			if (!kf_strv_contains(&mine, e->modules[j].name))
				continue;
			kf_warn(ctx, "DKMS has installed %s for %s too (package %s/%s%s%s): both tools now manage it and "
				     "depmod loads only one of the two files. Remove DKMS's copy with `dkms remove %s/%s --all`, "
				     "or let kforge take the package over with `kforge -k %s dkms import --remove %s/%s`",
				e->modules[j].name, kver, e->name, e->version, e->modules[j].installed ? ", " : "",
				e->modules[j].installed ? e->modules[j].installed : "", e->name, e->version, kver, e->name,
				e->version);
			warned++;
		}
	}
	kf_strv_free(&mine);
	kforge_dkms_tree_free(t);
	return warned;
}

struct results {
	struct kforge_dkms_result *v;
	size_t n, cap;
	int failed;
};

/* Adds a result and says it (a failure as an error, the rest as progress). */
static int add_result(struct kforge_ctx *ctx, struct results *rs, const char *name, const char *version,
		      const char *kernel, enum kforge_dkms_outcome o, char *detail)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 8;
		struct kforge_dkms_result *v = realloc(rs->v, cap * sizeof(*v));
		if (!v) {
			free(detail);
			return -ENOMEM;
		}
		rs->v = v;
		rs->cap = cap;
	}
	struct kforge_dkms_result *r = &rs->v[rs->n];
	*r = (struct kforge_dkms_result){
		.name = strdup(name),
		.version = version ? strdup(version) : NULL,
		.kernel = kernel ? strdup(kernel) : NULL,
		.outcome = o,
		.detail = detail,
	};
	if (!r->name || (version && !r->version) || (kernel && !r->kernel) || !detail) {
		free(r->name);
		free(r->version);
		free(r->kernel);
		free(r->detail);
		*r = (struct kforge_dkms_result){ 0 };
		return -ENOMEM;
	}
	rs->n++;
	const char *sep = version ? "/" : "";
	if (o == KFORGE_DKMS_FAILED) {
		rs->failed++;
		kf_err(ctx, "%s%s%s%s%s: failed: %s", name, sep, version ? version : "", kernel ? " for " : "",
		       kernel ? kernel : "", detail);
	} else {
		kf_notice(ctx, "%s%s%s%s%s: %s: %s", name, sep, version ? version : "", kernel ? " for " : "",
			  kernel ? kernel : "", kforge_dkms_outcome_name(o), detail);
	}
	return 0;
}

/* Does FILTER (NAME or NAME/VER, NULL-terminated; NULL: all) take package NAME/VER? */
static bool wanted(const char *const *filter, const char *name, const char *ver)
{
	if (!filter)
		return true;
	for (size_t i = 0; filter[i]; i++) {
		const char *slash = strchr(filter[i], '/');
		size_t n = slash ? (size_t)(slash - filter[i]) : strlen(filter[i]);
		if (strncmp(filter[i], name, n) == 0 && name[n] == '\0' && (!slash || strcmp(slash + 1, ver) == 0))
			return true;
	}
	return false;
}

/* After a successful install: kforge's record of each module DKMS built for E is there and intact. */
static char *verify(struct kforge_job *job, const struct kforge_dkms_entry *e, bool *ok)
{
	struct kforge_record **recs = NULL;
	size_t n = 0;
	*ok = false;
	if (kforge_records_list(job, e->kernel, &recs, &n) < 0)
		return strdup("kforge's records cannot be read back after the install");
	struct kf_strbuf b = { 0 };
	bool all = e->n_modules > 0;
	for (size_t i = 0; i < e->n_modules; i++) {
		const struct kforge_record *rec = NULL;
		for (size_t k = 0; k < n; k++)
			if (strcmp(recs[k]->module, e->modules[i].name) == 0)
				rec = recs[k];
		enum kforge_record_state s = rec ? kforge_record_check(job, rec) : KFORGE_RECORD_MISSING;
		if (!rec || (s != KFORGE_RECORD_OK && s != KFORGE_RECORD_SUPERSEDED)) {
			kf_strbuf_release(&b);
			all = false;
			if (!rec)
				kf_strbuf_appendf(&b, "DKMS built %s, but kforge installed no module of that name (does the "
						      "package's Kbuild say obj-m += %s.o?)",
						  e->modules[i].name, e->modules[i].name);
			else
				kf_strbuf_appendf(&b, "kforge's %s is %s right after its install: see kforge status",
						  rec->path, kforge_record_state_name(s));
			break;
		}
		kf_strbuf_appendf(&b, "%s%s -> %s%s", i ? ", " : "", rec->module, rec->path,
				  s == KFORGE_RECORD_SUPERSEDED ? " (another file of that name loads: see kforge status)" : "");
	}
	if (e->n_modules == 0)
		kf_strbuf_append(&b, "DKMS's tree lists no module file for this kernel: nothing to compare with");
	kforge_records_free(recs, n);
	*ok = all;
	return kf_strbuf_steal(&b);
}

/* One package on one kernel: build and install its source folder as `kforge -k KVER install DIR` does. */
static int import_one(struct kforge_job *probe, const struct kforge_job_options *base,
		      const struct kforge_dkms_import_options *opts, const struct kforge_dkms_entry *e,
		      struct results *rs, bool *imported)
{
	struct kforge_ctx *ctx = kforge_job_ctx(probe);
	const char *kver = e->kernel;
	*imported = false;
	if (e->state == KFORGE_DKMS_BROKEN)
		return add_result(ctx, rs, e->name, e->version, kver, KFORGE_DKMS_FAILED,
				  kf_strdup_printf("DKMS's tree is damaged: %s", e->problem));
	_cleanup_free_ char *moddir = kf_strdup_printf("/lib/modules/%s", kver);
	_cleanup_free_ char *host = moddir ? kforge_path_find(kforge_job_root(probe), moddir) : NULL;
	if (!host || !kf_is_dir(host))
		return add_result(ctx, rs, e->name, e->version, kver, KFORGE_DKMS_SKIPPED,
				  kf_strdup_printf("the kernel is no longer installed (%s is gone)", moddir));
	if (opts->dry_run)
		return add_result(ctx, rs, e->name, e->version, kver, KFORGE_DKMS_PLANNED,
				  kf_strdup_printf("kforge -k %s install %s", kver, kforge_job_display_path(probe, e->source_dir)));
	kf_notice(ctx, "%s/%s for %s: building %s", e->name, e->version, kver, kforge_job_display_path(probe, e->source_dir));
	struct kforge_job_options o = *base;
	o.kernel = kver;
	o.module = e->source_dir;
	o.plan = false;
	o.lifecycle = false;
	struct kforge_job *job = NULL;
	enum kforge_exit code = KFORGE_EXIT_OK;
	if (kforge_job_new(ctx, &o, &job, &code) < 0)
		return add_result(ctx, rs, e->name, e->version, kver, KFORGE_DKMS_FAILED,
				  kf_strdup_printf("no build can start for %s (exit %d, see the message above)", kver, (int)code));
	kforge_job_open_log(job, "dkms-import");
	int r;
	if (kforge_job_run(job, KFORGE_STEP_LOCATE_SOURCE, KFORGE_STEP_COUNT - 1) < 0) {
		const char *log = kforge_job_log_path(job);
		r = add_result(ctx, rs, e->name, e->version, kver, KFORGE_DKMS_FAILED,
			       kf_strdup_printf("the build or install failed (exit %d): see %s; DKMS's copy is left as it is",
						(int)kforge_job_exit_code(job), log ? log : "the messages above"));
	} else {
		bool ok;
		char *detail = verify(job, e, &ok);
		r = add_result(ctx, rs, e->name, e->version, kver, ok ? KFORGE_DKMS_IMPORTED : KFORGE_DKMS_FAILED, detail);
		*imported = ok;
	}
	kforge_job_unref(job);
	return r;
}

/* `dkms remove NAME/VER --all` through the runner, DKMS's tree under the root named when it is not "/". */
static int remove_from_dkms(struct kforge_job *probe, const struct kforge_dkms_import_options *opts, const char *name,
			    const char *ver, struct results *rs, bool *removed)
{
	*removed = false;
	struct kforge_ctx *ctx = kforge_job_ctx(probe);
	const char *root = kforge_job_root(probe);
	_cleanup_free_ char *mv = kf_strdup_printf("%s/%s", name, ver);
	_cleanup_free_ char *tree = kforge_path_join(root, KF_DKMS_TREE, NULL);
	_cleanup_free_ char *src = kforge_path_join(root, "/usr/src", NULL);
	_cleanup_free_ char *mods = kforge_path_join(root, "/lib/modules", NULL);
	if (!mv || !tree || !src || !mods)
		return -ENOMEM;
	const char *argv[] = { "dkms", "remove", mv, "--all", "--dkmstree", tree, "--sourcetree", src,
			       "--installtree", mods, NULL };
	if (strcmp(root, "/") == 0)
		argv[4] = NULL;
	_cleanup_free_ char *cmd = kf_argv_quote(argv);
	if (opts->dry_run)
		return add_result(ctx, rs, name, ver, NULL, KFORGE_DKMS_PLANNED, kf_strdup_printf("then %s", cmd));
	_cleanup_free_ char *dkms = kforge_find_program("dkms");
	if (!dkms)
		return add_result(ctx, rs, name, ver, NULL, KFORGE_DKMS_SKIPPED,
				  strdup("dkms is not installed, so it cannot remove its copies: DKMS's tree is left "
					 "as it is (install dkms and run `dkms remove` to clean it, or leave it)"));
	int status = 0;
	int r = kforge_run_status(probe, NULL, argv, &status);
	if (r < 0 || status != 0)
		return add_result(ctx, rs, name, ver, NULL, KFORGE_DKMS_FAILED,
				  kf_strdup_printf("`%s` failed (%s %d): see %s; kforge's copy stays installed", cmd,
						   r < 0 ? "error" : "exit", r < 0 ? r : status,
						   kforge_job_log_path(probe) ? kforge_job_log_path(probe) : "the log"));
	*removed = true;
	return add_result(ctx, rs, name, ver, NULL, KFORGE_DKMS_IMPORTED,
			  kf_strdup_printf("removed from DKMS (`%s`): kforge alone manages it now", cmd));
}

int kforge_dkms_import(struct kforge_job *probe, const struct kforge_job_options *base,
		       const struct kforge_dkms_import_options *opts, struct kforge_dkms_result **results, size_t *n,
		       int *failed)
{
	struct kforge_ctx *ctx = kforge_job_ctx(probe);
	struct kforge_dkms_tree *t = NULL;
	struct results rs = { 0 };
	*results = NULL;
	*n = 0;
	*failed = 0;
	int r = kf_dkms_tree_read(kforge_job_root(probe), NULL, &t);
	if (r < 0)
		return r;
	for (size_t i = 0; t->problems[i]; i++)
		kf_warn(ctx, "DKMS's tree: %s", t->problems[i]);
	if (!t->found)
		kf_notice(ctx, "there is no DKMS tree (%s): nothing to import", t->path);
	/* a package named that DKMS does not have, or has installed for no kernel */
	for (size_t f = 0; r == 0 && opts->packages && opts->packages[f]; f++) {
		const char *const one[] = { opts->packages[f], NULL };
		bool any = false, inst = false;
		for (size_t i = 0; i < t->n; i++)
			if (wanted(one, t->entries[i].name, t->entries[i].version)) {
				any = true;
				inst = inst || t->entries[i].installed;
			}
		if (!any)
			r = add_result(ctx, &rs, opts->packages[f], NULL, NULL, KFORGE_DKMS_FAILED,
				       kf_strdup_printf("DKMS has no such package in %s (see kforge status)", t->path));
		else if (!inst)
			r = add_result(ctx, &rs, opts->packages[f], NULL, NULL, KFORGE_DKMS_SKIPPED,
				       strdup("DKMS has not installed it for any kernel: only installed packages are imported"));
	}
	for (size_t i = 0; r == 0 && i < t->n; i++) {
		const struct kforge_dkms_entry *first = &t->entries[i];
		/* each package once: its entries are together, sorted by name and version */
		if ((i > 0 && strcmp(t->entries[i - 1].name, first->name) == 0 &&
		     strcmp(t->entries[i - 1].version, first->version) == 0) ||
		    !wanted(opts->packages, first->name, first->version))
			continue;
		unsigned int imported = 0, bad = 0, kernels = 0;
		for (size_t j = i; r == 0 && j < t->n && strcmp(t->entries[j].name, first->name) == 0 &&
				   strcmp(t->entries[j].version, first->version) == 0;
		     j++) {
			if (!t->entries[j].installed || (opts->kernel && strcmp(opts->kernel, t->entries[j].kernel) != 0))
				continue;
			kernels++;
			bool ok = false;
			int before = rs.failed;
			r = import_one(probe, base, opts, &t->entries[j], &rs, &ok);
			imported += ok;
			bad += rs.failed > before;
		}
		if (r < 0 || kernels == 0)
			continue;
		/* the content of DKMS's files, read before `dkms remove` deletes its tree */
		struct kf_strv gone = { 0 }, gone_kernel = { 0 };
		for (size_t j = i; opts->remove && bad == 0 && j < t->n && strcmp(t->entries[j].name, first->name) == 0 &&
				   strcmp(t->entries[j].version, first->version) == 0;
		     j++)
			for (size_t m = 0; t->entries[j].installed && m < t->entries[j].n_modules; m++) {
				char sha[65];
				if (kf_sha256_file(t->entries[j].modules[m].built, sha) == 0 &&
				    (kf_strv_push(&gone, sha) < 0 || kf_strv_push(&gone_kernel, t->entries[j].kernel) < 0))
					r = -ENOMEM;
			}
		bool removed = false;
		if (r < 0)
			;
		else if (opts->remove && bad == 0 && (imported > 0 || opts->dry_run))
			r = remove_from_dkms(probe, opts, first->name, first->version, &rs, &removed);
		else if (opts->remove && bad > 0)
			r = add_result(ctx, &rs, first->name, first->version, NULL, KFORGE_DKMS_SKIPPED,
				       kf_strdup_printf("not removed from DKMS: the import failed for %u of its %u kernels", bad,
							kernels));
		/* DKMS removed its files: kforge's records no longer keep them to put back */
		for (size_t g = 0; removed && r == 0 && g < gone.n; g++) {
			int c = kf_job_forget_replaced(probe, gone_kernel.v[g], gone.v[g]);
			if (c < 0)
				kf_warn(ctx, "%s/%s for %s: kforge's records still list DKMS's removed file as replaced (%s): "
					     "`kforge uninstall` would put it back; remove that [replaced] entry by hand",
					first->name, first->version, gone_kernel.v[g], strerror(-c));
		}
		kf_strv_free(&gone);
		kf_strv_free(&gone_kernel);
		if (!opts->remove && imported > 0)
			kf_warn(ctx, "%s/%s: kforge and DKMS both manage its modules now; finish with `kforge dkms import "
				     "--remove %s/%s` (or `dkms remove %s/%s --all`)",
				first->name, first->version, first->name, first->version, first->name, first->version);
	}
	kforge_dkms_tree_free(t);
	if (r < 0) {
		kforge_dkms_results_free(rs.v, rs.n);
		return r;
	}
	*results = rs.v;
	*n = rs.n;
	*failed = rs.failed;
	return 0;
}
