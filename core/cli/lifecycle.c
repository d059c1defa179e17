/* lifecycle.c: what kforge installed: uninstall, status, autoinstall, keygen. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* uninstall --all: every module kforge recorded for the job's kernel (the prerm.d hook's call) */
static int uninstall_all(struct kforge_ctx *ctx, struct kforge_job *job, const struct opts *o)
{
	struct kforge_record **recs = NULL;
	size_t n = 0;
	if (kforge_records_list(job, kforge_job_kernel(job), &recs, &n) < 0)
		return job_code(job);
	int code = 0;
	unsigned int done = 0;
	/* a module no other kernel records is kept for the next kernel before it is removed here */
	if (n && kforge_job_retire(job) < 0) {
		kforge_records_free(recs, n);
		return job_code(job);
	}
	for (size_t i = 0; i < n; i++) {
		if (kforge_job_uninstall(job, recs[i]->module, o->force) < 0) {
			kforge_err(ctx, "%s was not removed for %s", recs[i]->module, kforge_job_kernel(job));
			code = code ? code : job_code(job);
		} else {
			done++;
		}
	}
	kforge_notice(ctx, "uninstall --all for %s: %u of %zu module%s removed", kforge_job_kernel(job), done, n,
		      n == 1 ? "" : "s");
	kforge_records_free(recs, n);
	return code;
}

int cmd_uninstall(struct kforge_ctx *ctx, struct opts *o)
{
	int code = o->all ? need_args(ctx, o, 0, "")
			  : need_args(ctx, o, 1, "uninstall needs the name of a module kforge installed (see kforge status), "
						 "or --all");
	struct kforge_job *job = NULL;
	if (code || (code = make_job_for(ctx, o, NULL, false, true, &job)))
		return code;
	if (kforge_job_open_log(job, "uninstall") < 0)
		kforge_warn(ctx, "no log file can be written: set log.dir in kforge.conf");
	if (o->all)
		code = uninstall_all(ctx, job, o);
	else
		code = kforge_job_uninstall(job, o->args[0], o->force) < 0 ? job_code(job) : 0;
	kforge_job_log_result(job, code);
	if (code && kforge_job_log_path(job))
		kforge_notice(ctx, "log: %s", kforge_job_log_path(job));
	kforge_job_unref(job);
	return code;
}

static void json_record(const struct kforge_record *r, const char *state, struct kforge_job *job)
{
	fputs("{", stdout);
	json_kv("module", r->module, true);
	json_kv("kernel", r->kernel, true);
	json_kv("state", state, true);
	json_kv("path", r->path, true);
	json_kv("sha256", r->sha256, true);
	json_kv("spec", r->spec, true);
	json_kv("kind", r->kind, true);
	json_kv("source", r->source, true);
	json_kv("strategy", r->strategy, true);
	json_kv("plugin", r->plugin, true);
	json_kv("install_dir", r->install_dir, true);
	json_kv("package", r->package, true);
	json_kv("dest_location", r->dest_location, true);
	json_kv("time", r->time, true);
	fputs("\"set\": [", stdout);
	for (size_t i = 0; r->changes && r->changes[i]; i++) {
		fputs(i ? ", " : "", stdout);
		json_str(r->changes[i]);
	}
	fputs("], \"replaced\": [", stdout);
	for (size_t i = 0; i < r->n_replaced; i++) {
		fputs(i ? ", {" : "{", stdout);
		json_kv("path", r->replaced[i].path, true);
		json_kv("sha256", r->replaced[i].sha256, true);
		json_kv("backup", r->replaced[i].backup, false);
		fputs("}", stdout);
	}
	fputs("], \"weak_links\": [", stdout);
	char **links = kforge_record_weak_links(job, r);
	for (size_t i = 0; links && links[i]; i++) {
		fputs(i ? ", " : "", stdout);
		json_str(links[i]);
		free(links[i]);
	}
	free(links);
	fputs("]}", stdout);
}

int cmd_status(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	struct kforge_job *job = NULL;
	if (code || (code = make_job_for(ctx, o, NULL, false, true, &job)))
		return code;
	struct kforge_record **recs = NULL;
	size_t n = 0;
	if (kforge_records_list(job, o->kernel, &recs, &n) < 0) {
		code = job_code(job);
		kforge_job_unref(job);
		return code;
	}
	const char *repaired = kforge_job_repaired(job);
	if (o->json) {
		fputs("{\"repaired\": ", stdout);
		json_str(repaired);
		fputs(", \"modules\": [", stdout);
	} else if (n) {
		printf("%-24s %-20s %-10s %-20s %s\n", "KERNEL", "MODULE", "STATE", "INSTALLED", "PATH");
	} else {
		printf("kforge installed no module%s%s under %s\n", o->kernel ? " for " : "", o->kernel ? o->kernel : "",
		       kforge_job_install_mod_path(job) ? kforge_job_install_mod_path(job) : kforge_ctx_root(ctx));
	}
	for (size_t i = 0; i < n; i++) {
		const char *state = kforge_record_state_name(kforge_record_check(job, recs[i]));
		if (o->json) {
			fputs(i ? ", " : "", stdout);
			json_record(recs[i], state, job);
			continue;
		}
		printf("%-24s %-20s %-10s %-20s %s\n", recs[i]->kernel, recs[i]->module, state, recs[i]->time,
		       recs[i]->path);
		/* a DKMS package's module: the package, where its dkms.conf wanted it, where kforge put it */
		if (recs[i]->package)
			printf("%-24s %-20s %-10s %-20s   DKMS package %s (%s): DEST_MODULE_LOCATION %s, installed in %s/ "
			       "(kforge's placement)\n",
			       "", "", "", "", recs[i]->package, recs[i]->spec, recs[i]->dest_location ? recs[i]->dest_location : "-",
			       recs[i]->install_dir);
		for (size_t j = 0; j < recs[i]->n_replaced; j++)
			printf("%-24s %-20s %-10s %-20s   replaced %s (kept in %s)\n", "", "", "", "", recs[i]->replaced[j].path,
			       recs[i]->replaced[j].backup);
		/* weak-modules' links of other kernels to this file: it loads there too */
		char **links = kforge_record_weak_links(job, recs[i]);
		for (size_t j = 0; links && links[j]; j++) {
			printf("%-24s %-20s %-10s %-20s   linked from %s\n", "", "", "", "", links[j]);
			free(links[j]);
		}
		free(links);
	}
	/* the modules of removed kernels that autoinstall builds for the next one */
	struct kforge_record **kept = NULL;
	size_t nk = 0;
	if (!o->kernel && kforge_records_retired(job, &kept, &nk) < 0)
		nk = 0;
	if (o->json)
		fputs("], \"retired\": [", stdout);
	for (size_t i = 0; i < nk; i++) {
		if (o->json) {
			fputs(i ? ", " : "", stdout);
			json_record(kept[i], "retired", job);
		} else {
			printf("%s%-24s %-20s %-10s %-20s %s\n", i ? "" : "# kept for the next kernel (their kernel was removed): "
									   "kforge autoinstall builds them\n",
			       kept[i]->kernel, kept[i]->module, "retired", kept[i]->time, kept[i]->spec);
		}
	}
	kforge_records_free(kept, nk);
	if (o->json)
		fputs("], \"dkms\": ", stdout);
	dkms_status(ctx, job, o->kernel, o->json);
	if (o->json)
		fputs("}\n", stdout);
	kforge_records_free(recs, n);
	kforge_job_unref(job);
	return 0;
}

/* autoinstall for one kernel (O's -k): an exit code */
static int autoinstall_one(struct kforge_ctx *ctx, struct opts *o)
{
	struct kforge_job *job = NULL;
	int code = make_job_for(ctx, o, NULL, false, true, &job);
	if (code)
		return code;
	struct kforge_job_options base = {
		.install_mod_path = o->install_mod_path,
		.no_wait = o->no_wait,
		.initramfs = o->initramfs,
	};
	int failed = 0;
	if (kforge_autoinstall(job, &base, &failed) < 0) {
		code = job_code(job);
	} else {
		code = failed ? KFORGE_EXIT_FAILURE : 0;
		/* the modules kforge now has for this kernel that DKMS installed too */
		kforge_dkms_warn_same_name(job, NULL);
	}
	kforge_job_unref(job);
	return code;
}

/* --all-kernels: each kernel's autoinstall a job of the batch, its rebuilds under the same jobserver */
struct kernels {
	struct kforge_ctx *ctx;
	struct opts *o;
	char **v;
	size_t n, next, failed;
	struct kforge_job **probes;
	int *codes;
};

static long kernels_ready(void *data)
{
	struct kernels *k = data;
	return k->next < k->n ? (long)k->next : -1;
}

static struct kforge_job *kernels_start(void *data, size_t i)
{
	struct kernels *k = data;
	k->next = i + 1;
	kforge_notice(k->ctx, "autoinstall for %s (%zu of %zu kernels)", k->v[i], i + 1, k->n);
	return k->probes[i];
}

static int kernels_run(struct kforge_job *job, void *data)
{
	struct kernels *k = data;
	struct opts one = *k->o;
	one.kernel = kforge_job_kernel(job);
	return autoinstall_one(k->ctx, &one);
}

static void kernels_done(void *data, size_t i, int code)
{
	struct kernels *k = data;
	k->codes[i] = code;
	k->failed += code != 0;
}

static const struct kforge_batch_ops kernels_ops = { kernels_ready, kernels_start, kernels_run, kernels_done };

int cmd_autoinstall(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	if (code || !o->all_kernels)
		return code ? code : autoinstall_one(ctx, o);
	if (o->kernel) {
		kforge_err(ctx, "autoinstall: -k and --all-kernels name the kernels twice: give one of them");
		return KFORGE_EXIT_USAGE;
	}
	struct kernels k = { .ctx = ctx, .o = o, .v = kforge_list_kernels(kforge_ctx_root(ctx)) };
	for (; k.v && k.v[k.n]; k.n++)
		;
	if (!k.n) {
		kforge_notice(ctx, "autoinstall --all-kernels: no kernel under %s has a build dir: nothing to rebuild",
			      kforge_ctx_root(ctx));
		free(k.v);
		return 0;
	}
	k.probes = calloc(k.n, sizeof(*k.probes));
	k.codes = calloc(k.n, sizeof(*k.codes));
	/* a job per kernel, its -j the run's: the batch's slots, which the kernels' rebuilds share */
	for (size_t i = 0; k.probes && k.codes && i < k.n && !code; i++) {
		struct opts one = *o;
		one.kernel = k.v[i];
		code = make_job_for(ctx, &one, NULL, false, true, &k.probes[i]);
	}
	if (!k.probes || !k.codes)
		code = KFORGE_EXIT_FAILURE;
	if (!code) {
		unsigned int slots = kforge_job_jobs(k.probes[0]);
		int r = kforge_batch_run(ctx, k.n > 1 ? slots : 1, &kernels_ops, &k);
		if (r < 0) {
			kforge_err(ctx, "cannot run the autoinstalls: %s", strerror(-r));
			code = KFORGE_EXIT_FAILURE;
		}
	}
	if (!code) {
		kforge_notice(ctx, "autoinstall --all-kernels: %zu kernels, %zu with failures", k.n, k.failed);
		for (size_t i = 0; i < k.n; i++)
			kforge_notice(ctx, "  %s: %s", k.v[i], k.codes[i] ? "failed (see above)" : "ok");
		code = k.failed ? KFORGE_EXIT_FAILURE : 0;
	}
	for (size_t i = 0; i < k.n; i++) {
		if (k.probes)
			kforge_job_unref(k.probes[i]);
		free(k.v[i]);
	}
	free(k.v);
	free(k.probes);
	free(k.codes);
	return code;
}

int cmd_keygen(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	struct kforge_job *job = NULL;
	if (code || (code = make_job_for(ctx, o, NULL, false, true, &job)))
		return code;
	kforge_job_open_log(job, "keygen");
	char *key = NULL, *cert = NULL;
	if (kforge_job_keygen(job, o->dir, &key, &cert) < 0) {
		code = job_code(job);
	} else {
		printf("created the module signing key %s and its certificate %s\n"
		       "kforge signs modules with them from now on%s. For the kernel to trust them under Secure Boot,\n"
		       "enroll the certificate in the machine owner keys (MOK):\n"
		       "  mokutil --import %s\n"
		       "then reboot and confirm the enrollment in MokManager with the password you chose.\n",
		       key, cert, o->dir ? " (name them in kforge.conf: install.sign_key, install.sign_cert)" : "", cert);
	}
	free(key);
	free(cert);
	kforge_job_unref(job);
	return code;
}

