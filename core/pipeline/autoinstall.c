/* autoinstall.c: every module kforge installed, rebuilt and installed for a new kernel. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pipeline/job.h"
#include "txn/record.h"

/* One thing to rebuild: the newest record of a spec with its options. */
struct wish {
	const struct kforge_record *rec;
	struct kf_strv modules; /* the module names this spec installed */
};

static char *wish_key(const struct kforge_record *r)
{
	struct kf_strbuf b = { 0 };
	kf_strbuf_appendf(&b, "%s\n%s", r->kind, r->spec);
	for (size_t i = 0; r->changes && r->changes[i]; i++)
		kf_strbuf_appendf(&b, "\n%s", r->changes[i]);
	return kf_strbuf_steal(&b);
}

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
	if (!probe->kernel.build_dir) {
		kf_notice(ctx, "%s has no build directory yet (its headers are not installed): nothing rebuilt now; "
			       "kforge autoinstall -k %s runs again when they are (header_postinst.d, pacman hook)",
			  kver, kver);
		kforge_records_free(recs, n);
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
		_cleanup_free_ char *key = wish_key(recs[i]);
		size_t j;
		for (j = 0; j < nw; j++) {
			_cleanup_free_ char *k2 = wish_key(wishes[j].rec);
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
	unsigned int built = 0, skipped = 0;
	for (size_t i = 0; i < nw; i++) {
		const struct kforge_record *w = wishes[i].rec;
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
			continue;
		}
		_cleanup_free_ char *why = why_not(probe, w, exclude);
		if (why) {
			kf_notice(ctx, "%s: skipped for %s: %s", w->spec, kver, why);
			skipped++;
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
		struct kforge_job *job = NULL;
		enum kforge_exit code;
		kf_notice(ctx, "%s: rebuilding for %s", w->spec, kver);
		if (kforge_job_new(ctx, &o, &job, &code) < 0) {
			kf_err(ctx, "%s: cannot be rebuilt for %s (see the message above)", w->spec, kver);
			(*failed)++;
			continue;
		}
		kforge_job_open_log(job, "autoinstall");
		if (kforge_job_run(job, KFORGE_STEP_LOCATE_SOURCE, KFORGE_STEP_COUNT - 1) < 0 &&
		    kforge_job_exit_code(job) == KFORGE_EXIT_SKIPPED) {
			/* a DKMS package that excludes this kernel (BUILD_EXCLUSIVE): said by the job, never a failure */
			skipped++;
		} else if (kforge_job_exit_code(job) != KFORGE_EXIT_OK) {
			kf_err(ctx, "%s: the rebuild for %s failed (exit %d): see %s", w->spec, kver,
			       (int)kforge_job_exit_code(job), kforge_job_log_path(job) ? kforge_job_log_path(job) : "the log");
			(*failed)++;
		} else {
			built++;
		}
		kforge_job_unref(job);
	}
	kf_notice(ctx, "autoinstall for %s: %u rebuilt, %u skipped, %d failed", kver, built, skipped, *failed);
	for (size_t i = 0; i < nw; i++)
		kf_strv_free(&wishes[i].modules);
	free(wishes);
	kforge_records_free(recs, n);
	return 0;
}
