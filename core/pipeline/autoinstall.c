/* autoinstall.c: every module kforge installed, rebuilt and installed for a new kernel. */
#include "config.h"

#include <errno.h>
#include <libkmod.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/job.h"
#include "txn/record.h"

enum wish_state { WISH_TODO, WISH_RUNNING, WISH_OK, WISH_SKIPPED, WISH_NOT_AUTO, WISH_FAILED };

/* One thing to rebuild: the newest record of a spec with its options. */
struct wish {
	const struct kforge_record *rec;
	struct kf_strv modules; /* the module names this spec installed */
	struct kf_strv needs;	/* the modules its last build imported symbols from (modinfo depends) */
	bool needs_unknown;	/* its last build could not be read: it waits for the older wishes */
	struct kforge_job *job; /* while it waits for its BUILD_DEPENDS: located, not built */
	enum wish_state state;
	char *failure; /* why it failed, for the packages that depend on it */
};

struct tally {
	unsigned int built, skipped, not_auto;
	int *failed;
};

/* The job's end (CODE), said and counted; the job let go. */
static void wish_done(struct kforge_ctx *ctx, struct wish *w, const char *kver, struct tally *t, int code)
{
	struct kforge_job *job = w->job;
	if (code == KFORGE_EXIT_SKIPPED && job->not_autoinstalled) {
		w->state = WISH_NOT_AUTO; /* said by the job: not autoinstalled (AUTOINSTALL ...) */
		t->not_auto++;
	} else if (code == KFORGE_EXIT_SKIPPED) {
		/* a DKMS package that excludes this kernel (BUILD_EXCLUSIVE): said by the job, never a failure */
		w->state = WISH_SKIPPED;
		t->skipped++;
	} else if (code != KFORGE_EXIT_OK) {
		const char *log = kforge_job_log_path(job) ? kforge_job_log_path(job) : "the log";
		w->failure = kf_strdup_printf("exit %d: see %s", (int)code, log);
		kf_err(ctx, "%s: the rebuild for %s failed (exit %d): see %s", w->rec->spec, kver, (int)code, log);
		w->state = WISH_FAILED;
		(*t->failed)++;
	} else {
		w->state = WISH_OK;
		t->built++;
	}
	w->job = kforge_job_unref(job);
}

/* Does W install the module NAME (dashes and underscores alike)? */
static bool wish_installs(const struct wish *w, const char *name)
{
	for (size_t i = 0; i < w->modules.n; i++) {
		const char *a = w->modules.v[i], *b = name;
		for (; *a && *b && (*a == *b || (strchr("-_", *a) && strchr("-_", *b))); a++, b++)
			;
		if (!*a && !*b)
			return true;
	}
	return false;
}

/* The modules REC's installed file imports symbols from (its modinfo depends), into NEEDS; false
 * when the file cannot be read as installed. */
static bool record_needs(struct kforge_job *probe, const struct kforge_record *rec, struct kf_strv *needs)
{
	const char *base = probe->install_mod_path ? probe->install_mod_path : kforge_ctx_root(probe->ctx);
	_cleanup_free_ char *ko = kforge_path_join(base, rec->path, NULL);
	const char *no_config = NULL;
	bool ok = ko && kforge_record_check(probe, rec) == KFORGE_RECORD_OK;
	struct kmod_ctx *kctx = ok ? kmod_new(probe->kernel.modules_dir, &no_config) : NULL;
	struct kmod_module *mod = NULL;
	struct kmod_list *info = NULL, *l;
	bool read = false;
	if (kctx && kmod_module_new_from_path(kctx, ko, &mod) == 0 && (read = kmod_module_get_info(mod, &info) >= 0))
		kmod_list_foreach(l, info)
		{
			if (strcmp(kmod_module_info_get_key(l), "depends") != 0)
				continue;
			_cleanup_free_ char *list = strdup(kmod_module_info_get_value(l));
			for (char *save = NULL, *d = list ? strtok_r(list, ",", &save) : NULL; d; d = strtok_r(NULL, ",", &save))
				if (!kf_strv_contains(needs, d))
					kf_strv_push(needs, d);
		}
	kmod_module_info_free_list(info);
	kmod_module_unref(mod);
	kmod_unref(kctx);
	return read;
}

/* Is W the DKMS package NAME (its record's package NAME/VER)? */
static bool wish_is(const struct wish *w, const char *name)
{
	size_t n = strlen(name);
	const char *pkg = w->rec->package;
	return pkg && strncmp(pkg, name, n) == 0 && pkg[n] == '/';
}

/* Does A import from a module B installs? */
static bool wishes_need(const struct wish *a, const struct wish *b)
{
	for (size_t d = 0; d < a->needs.n; d++)
		if (wish_installs(b, a->needs.v[d]))
			return true;
	return false;
}

/*
 * The next wish whose BUILD_DEPENDS are all done among the wishes (oldest first), with those
 * skipped there counted as installed as DKMS 3.4 counts them; one whose dependency failed is
 * failed with that reason. Returns its index, or NW when none can go on (all done, or a cycle).
 */
static size_t next_wish(struct kforge_ctx *ctx, struct wish *wishes, size_t nw, const char *kver, struct tally *t)
{
	for (size_t i = 0; i < nw; i++) {
		struct wish *w = &wishes[i];
		if (w->state != WISH_TODO)
			continue;
		bool waits = false;
		/* a module its last build imported symbols from: built first, so that the registry
		 * has its Module.symvers (two that import from each other: neither waits) */
		for (size_t k = 0; k < i && w->needs_unknown && !waits; k++)
			waits = wishes[k].state == WISH_TODO || wishes[k].state == WISH_RUNNING;
		for (size_t k = 0; k < nw && !waits; k++)
			for (size_t d = 0; d < w->needs.n && k != i && !waits; d++)
				waits = (wishes[k].state == WISH_TODO || wishes[k].state == WISH_RUNNING) &&
					wish_installs(&wishes[k], w->needs.v[d]) && !wishes_need(&wishes[k], w);
		for (size_t d = 0; d < w->job->dkms_depends.n && !waits; d++) {
			const char *dep = w->job->dkms_depends.v[d];
			for (size_t k = 0; k < nw; k++) {
				if (k == i || !wish_is(&wishes[k], dep))
					continue;
				if (wishes[k].state == WISH_TODO || wishes[k].state == WISH_RUNNING) {
					waits = true;
				} else if (wishes[k].state == WISH_FAILED) {
					kf_err(ctx, "%s: not rebuilt for %s: its BUILD_DEPENDS %s (%s) failed there (%s)", w->rec->spec,
					       kver, dep, wishes[k].rec->package, wishes[k].failure ? wishes[k].failure : "see above");
					w->failure = kf_strdup_printf("its BUILD_DEPENDS %s failed", dep);
					w->state = WISH_FAILED;
					(*t->failed)++;
					w->job = kforge_job_unref(w->job);
					return i;
				} else if (wishes[k].state == WISH_SKIPPED && !kf_strv_contains(&w->job->dkms_satisfied, dep)) {
					kf_strv_push(&w->job->dkms_satisfied, dep);
				}
			}
		}
		if (!waits)
			return i;
	}
	return nw;
}

/* The rebuilds, as the batch runs them. */
struct batch {
	struct kforge_ctx *ctx;
	struct wish *wishes;
	size_t nw;
	const char *kver;
	struct tally *t;
	size_t started, total;
};

static long batch_ready(void *data)
{
	struct batch *b = data;
	for (size_t i; (i = next_wish(b->ctx, b->wishes, b->nw, b->kver, b->t)) < b->nw;)
		if (b->wishes[i].state == WISH_TODO) /* else failed there: its BUILD_DEPENDS did */
			return (long)i;
	return -1;
}

static struct kforge_job *batch_start(void *data, size_t i)
{
	struct batch *b = data;
	b->wishes[i].state = WISH_RUNNING;
	kf_notice(b->ctx, "%s: rebuilding for %s (%zu of %zu)", b->wishes[i].rec->spec, b->kver, ++b->started, b->total);
	return b->wishes[i].job;
}

static int batch_run(struct kforge_job *job, void *data)
{
	struct batch *b = data;
	/* a DKMS package's job was located already: its conf read */
	bool located = false;
	for (size_t i = 0; i < b->nw; i++)
		if (b->wishes[i].job == job)
			located = strcmp(b->wishes[i].rec->kind, "dkms") == 0;
	kforge_job_run(job, located ? KFORGE_STEP_LOCATE_SOURCE + 1 : KFORGE_STEP_LOCATE_SOURCE, KFORGE_STEP_COUNT - 1);
	return (int)kforge_job_exit_code(job);
}

static void batch_done(void *data, size_t i, int code)
{
	struct batch *b = data;
	wish_done(b->ctx, &b->wishes[i], b->kver, b->t, code);
	if (b->wishes[i].state == WISH_OK)
		kf_notice(b->ctx, "%s: rebuilt for %s", b->wishes[i].rec->spec, b->kver);
}

static const struct kforge_batch_ops batch_ops = { batch_ready, batch_start, batch_run, batch_done };

static bool listed(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || strchr(" ,\t", p[-1])) && (p[n] == '\0' || strchr(" ,\t", p[n])))
			return true;
	return false;
}

/* Why a recorded module cannot apply to the new kernel, or NULL when it can. */
static char *why_not(struct kforge_job *probe, const struct kforge_record *r, const char *exclude)
{
	if (listed(exclude, r->module) || listed(exclude, r->spec))
		return strdup("excluded by autoinstall.exclude in kforge.conf");
	for (size_t i = 0; r->extra_symbols && r->extra_symbols[i]; i++)
		if (!kf_is_file(r->extra_symbols[i]))
			return kf_strdup_printf("its --extra-symbols file %s is gone", r->extra_symbols[i]);
	if (strcmp(r->kind, "external") == 0)
		return kf_is_dir(r->spec) ? NULL : kf_strdup_printf("its folder %s is gone", r->spec);
	if (strcmp(r->kind, "dkms") == 0) {
		_cleanup_free_ char *conf = kforge_path_join(r->spec, "dkms.conf", NULL);
		return conf && kf_is_file(conf) ? NULL
						: kf_strdup_printf("the DKMS package %s is gone (no %s/dkms.conf)",
								   r->package ? r->package : r->spec, r->spec);
	}
	for (size_t i = 0; r->changes && r->changes[i]; i++) {
		char opt[128];
		snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(r->changes[i], "="), r->changes[i]);
		/* an option the new kernel's config does not know at all, set or unset */
		_cleanup_free_ char *unset = kf_strdup_printf("# %s is not set", opt);
		const char *text = probe->kernel.config_text;
		if (text && !kforge_job_kconfig(probe, opt) && unset && !strstr(text, unset))
			return kf_strdup_printf("%s does not exist in %s", opt, probe->kernel.release);
	}
	if (strcmp(r->kind, "name") == 0 && kf_module_builtin(probe->kernel.modules_dir, r->module))
		return kf_strdup_printf("%s is built into %s: only a kernel rebuild replaces it", r->module,
					probe->kernel.release);
	return NULL;
}

/* A retired record (PATHS, their wish KEYS) whose module some kernel now records again has done its job: removed. */
static void forget_retired(struct kforge_job *probe, const struct kf_strv *paths, const struct kf_strv *keys)
{
	struct kforge_record **now = NULL;
	size_t n = 0;
	if (!paths->n || kforge_records_list(probe, NULL, &now, &n) < 0)
		return;
	for (size_t i = 0; i < paths->n && i < keys->n; i++)
		for (size_t j = 0; j < n; j++) {
			_cleanup_free_ char *k2 = kf_wish_key(now[j]);
			if (k2 && strcmp(keys->v[i], k2) == 0) {
				if (unlink(paths->v[i]) == 0)
					kf_info(probe->ctx, "%s is installed for %s again: its kept record %s is no longer needed",
						now[j]->spec, now[j]->kernel, paths->v[i]);
				break;
			}
		}
	kforge_records_free(now, n);
}

int kforge_autoinstall(struct kforge_job *probe, const struct kforge_job_options *base, int *failed)
{
	struct kforge_ctx *ctx = kforge_job_ctx(probe);
	const char *kver = probe->kernel.release;
	*failed = 0;
	struct kforge_record **recs = NULL;
	size_t n = 0;
	int r = kforge_records_list(probe, NULL, &recs, &n);
	if (r < 0)
		return r;
	/* the modules of removed kernels that no other kernel records: wishes too, after the others */
	struct kforge_record **retired = NULL;
	size_t n_retired = 0;
	struct kf_strv retired_paths = { 0 }, retired_keys = { 0 };
	if (kf_retired_read(probe, &retired, &n_retired, &retired_paths) == 0 && n_retired) {
		for (size_t i = 0; i < n_retired; i++) {
			_cleanup_free_ char *key = kf_wish_key(retired[i]);
			kf_strv_push(&retired_keys, key ? key : "");
		}
		struct kforge_record **all = realloc(recs, (n + n_retired) * sizeof(*all));
		if (all) {
			recs = all;
			for (size_t i = 0; i < n_retired; i++) {
				recs[n++] = retired[i];
				retired[i] = NULL;
			}
		}
		kforge_records_free(retired, n_retired);
	}
	if (!probe->kernel.build_dir) {
		kf_notice(ctx, "%s has no build directory yet (its headers are not installed): nothing rebuilt now; "
			       "kforge autoinstall -k %s runs again when they are (header_postinst.d, pacman hook)",
			  kver, kver);
		kforge_records_free(recs, n);
		kf_strv_free(&retired_paths);
		kf_strv_free(&retired_keys);
		return 0;
	}
	/* the newest record of each spec and options, oldest wish first: an exporter before its importer */
	struct wish *wishes = calloc(n + 1, sizeof(*wishes));
	size_t nw = 0;
	if (!wishes) {
		kforge_records_free(recs, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *key = kf_wish_key(recs[i]);
		size_t j;
		for (j = 0; j < nw; j++) {
			_cleanup_free_ char *k2 = kf_wish_key(wishes[j].rec);
			if (key && k2 && strcmp(key, k2) == 0)
				break;
		}
		if (j == nw)
			wishes[nw++].rec = recs[i];
		else if (strcmp(recs[i]->time, wishes[j].rec->time) > 0)
			wishes[j].rec = recs[i];
		if (!kf_strv_contains(&wishes[j].modules, recs[i]->module))
			kf_strv_push(&wishes[j].modules, recs[i]->module);
	}
	for (size_t i = 1; i < nw; i++)
		for (size_t j = i; j > 0 && strcmp(wishes[j].rec->time, wishes[j - 1].rec->time) < 0; j--) {
			struct wish t = wishes[j];
			wishes[j] = wishes[j - 1];
			wishes[j - 1] = t;
		}
	const char *exclude = kforge_config_get(ctx, "autoinstall.exclude");
	struct tally t = { .failed = failed };
	/* each located (a DKMS package's conf read: AUTOINSTALL, BUILD_DEPENDS), then built in order */
	for (size_t i = 0; i < nw; i++) {
		const struct kforge_record *w = wishes[i].rec;
		wishes[i].state = WISH_SKIPPED;
		bool have = true;
		for (size_t m = 0; m < wishes[i].modules.n; m++) {
			bool found = false;
			for (size_t k = 0; k < n; k++)
				if (strcmp(recs[k]->kernel, kver) == 0 && strcmp(recs[k]->module, wishes[i].modules.v[m]) == 0 &&
				    strcmp(recs[k]->spec, w->spec) == 0)
					found = kforge_record_check(probe, recs[k]) == KFORGE_RECORD_OK;
			have = have && found;
		}
		if (have) {
			kf_notice(ctx, "%s: already installed for %s", w->spec, kver);
			wishes[i].state = WISH_OK;
			continue;
		}
		_cleanup_free_ char *why = why_not(probe, w, exclude);
		if (why) {
			kf_notice(ctx, "%s: skipped for %s: %s", w->spec, kver, why);
			t.skipped++;
			continue;
		}
		struct kforge_job_options o = *base;
		o.kernel = kver;
		o.module = w->spec;
		o.source = NULL;
		o.config_changes = (const char *const *)w->changes;
		o.extra_symbols = (const char *const *)w->extra_symbols;
		o.strategy = KFORGE_STRATEGY_AUTO;
		if (w->strategy_forced && kforge_strategy_from_name(w->strategy, &o.strategy) < 0)
			o.strategy = KFORGE_STRATEGY_HEADERS; /* a record of a later version: the safe one */
		o.install_dir = w->install_dir_forced ? w->install_dir : NULL;
		o.lifecycle = false;
		o.plan = false;
		enum kforge_exit code;
		if (kforge_job_new(ctx, &o, &wishes[i].job, &code) < 0) {
			kf_err(ctx, "%s: cannot be rebuilt for %s (see the message above)", w->spec, kver);
			wishes[i].failure = strdup("its job could not start");
			wishes[i].state = WISH_FAILED;
			(*failed)++;
			continue;
		}
		wishes[i].state = WISH_TODO;
		struct kforge_job *job = wishes[i].job;
		job->autoinstall = true;
		job->rebuild = probe->rebuild;
		kforge_job_open_log(job, "autoinstall");
		wishes[i].needs_unknown = !record_needs(probe, w, &wishes[i].needs);
		if (strcmp(w->kind, "dkms") == 0 && kforge_job_run(job, KFORGE_STEP_LOCATE_SOURCE, KFORGE_STEP_LOCATE_SOURCE) < 0)
			wish_done(ctx, &wishes[i], kver, &t, (int)kforge_job_exit_code(job));
	}
	/* a dependency before its dependents (DKMS 3.4's autoinstall, dkms.in:3046-3087), else the
	 * oldest first; independent ones at once, under one jobserver of -j slots */
	struct batch b = { ctx, wishes, nw, kver, &t, 0, 0 };
	for (size_t i = 0; i < nw; i++)
		b.total += wishes[i].state == WISH_TODO;
	r = kforge_batch_run(ctx, b.total > 1 ? probe->jobs : 1, &batch_ops, &b);
	if (r < 0) {
		kf_err(ctx, "cannot run the rebuilds for %s: %s", kver, strerror(-r));
		for (size_t i = 0; i < nw; i++)
			if (wishes[i].state == WISH_TODO) {
				wishes[i].state = WISH_FAILED;
				wishes[i].job = kforge_job_unref(wishes[i].job);
				(*failed)++;
			}
	}
	for (size_t i = 0; i < nw && r == 0; i++)
		if (wishes[i].state == WISH_TODO) {
			struct kf_strbuf deps = { 0 };
			for (size_t d = 0; d < wishes[i].job->dkms_depends.n; d++)
				kf_strbuf_appendf(&deps, "%s%s", d ? ", " : "", wishes[i].job->dkms_depends.v[d]);
			_cleanup_free_ char *list = kf_strbuf_steal(&deps);
			kf_err(ctx, "%s: not rebuilt for %s: its BUILD_DEPENDS (%s) wait on each other, a cycle: break it in "
				    "their dkms.conf files",
			       wishes[i].rec->spec, kver, list ? list : "?");
			wishes[i].job = kforge_job_unref(wishes[i].job);
			(*failed)++;
		}
	if (t.not_auto)
		kf_notice(ctx, "autoinstall for %s: %u rebuilt, %u skipped, %d failed; %u not autoinstalled (AUTOINSTALL is "
			       "not yes in their dkms.conf)",
			  kver, t.built, t.skipped, *failed, t.not_auto);
	else
		kf_notice(ctx, "autoinstall for %s: %u rebuilt, %u skipped, %d failed", kver, t.built, t.skipped, *failed);
	for (size_t i = 0; i < nw; i++) {
		kf_strv_free(&wishes[i].modules);
		kf_strv_free(&wishes[i].needs);
		free(wishes[i].failure);
	}
	free(wishes);
	kforge_records_free(recs, n);
	forget_retired(probe, &retired_paths, &retired_keys);
	kf_strv_free(&retired_paths);
	kf_strv_free(&retired_keys);
	return 0;
}
