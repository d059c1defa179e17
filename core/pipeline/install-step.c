/* install-step.c: the default "install" step: the gate, signing, then the install transaction. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "pipeline/steps.h"
#include "txn/record.h"

static const char *kind_name(const struct kforge_job *job)
{
	enum kforge_module_kind k = job->kind;
	return job->dkms_dir ? "dkms" : k == KFORGE_MODULE_NAME ? "name" : k == KFORGE_MODULE_INTREE_DIR ? "intree-dir" : "external";
}

/* The index of BUILT in job->built_as (the driver's install names), or -1 when it has none. */
static ssize_t built_index(const struct kforge_job *job, const char *built)
{
	for (size_t i = 0; job->built_as.n == job->built.n && i < job->built.n; i++)
		if (strcmp(job->built.v[i], built) == 0)
			return (ssize_t)i;
	return -1;
}

static char *utc_now(void)
{
	char buf[32];
	time_t now = time(NULL);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	return strdup(buf);
}

/* Where one built module goes: install_base/subdir/<its path inside the module folder (the copy built)>. */
static char *install_path(const struct kforge_job *job, const char *built)
{
	ssize_t k = built_index(job, built);
	if (k >= 0) /* a DKMS package's module: DEST_MODULE_NAME.ko, in the install dir's top as DKMS puts it */
		return kf_strdup_printf("%s/%s/%s.ko%s", job->install_base, job->install_subdir, job->built_as.v[k],
					kforge_compression_suffix(job->compression));
	const char *rel = strrchr(built, '/') + 1;
	/* the folder built, or the build cache's entry of a build reused: the same paths below it */
	const char *from = job->built_from ? job->built_from : job->module_dir;
	size_t n = strlen(from);
	if (job->kind == KFORGE_MODULE_EXTERNAL && strncmp(built, from, n) == 0 && built[n] == '/')
		rel = built + n + 1;
	return kf_strdup_printf("%s/%s/%s%s", job->install_base, job->install_subdir, rel,
				kforge_compression_suffix(job->compression));
}

/* The record of one module as the target sees it; sha256 and what it replaced come from the install. */
static struct kforge_record *new_record(struct kforge_job *job, const char *base, const char *name, const char *dest,
				       const char *dest_location)
{
	struct kforge_record *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	const struct kf_plugin *p = job->plugin;
	const char *source = job->source ? job->source : job->source_dir;
	size_t bn = strlen(base);
	r->module = strdup(name);
	r->kernel = strdup(job->kernel.release);
	/* an external module's folder by its full path (where kforge runs, like --source):
	 * autoinstall finds it from anywhere */
	r->spec = strdup(job->kind == KFORGE_MODULE_EXTERNAL && job->module_origin ? job->module_origin : job->module_spec);
	r->kind = strdup(kind_name(job));
	r->package = job->package ? strdup(job->package) : NULL;
	r->dest_location = dest_location ? strdup(dest_location) : NULL;
	r->source = source ? strdup(kforge_job_display_path(job, source)) : NULL;
	r->strategy = strdup(kforge_strategy_name(job->strategy));
	r->strategy_forced = !job->strategy_chosen;
	r->plugin = strdup(p ? p->name : "core");
	r->install_dir = strdup(job->install_subdir);
	r->install_dir_forced = job->install_dir_forced != NULL;
	r->time = utc_now();
	r->path = strdup(bn && strncmp(dest, base, bn) == 0 ? dest + bn : dest);
	struct kf_strv c = { 0 }, e = { 0 }, d = { 0 };
	bool lists = true;
	for (size_t i = 0; i < job->dkms_built_against.n; i++)
		lists = lists && kf_strv_push(&d, job->dkms_built_against.v[i]) == 0;
	r->depends = d.v;
	for (size_t i = 0; i < job->changes.n; i++)
		lists = lists && kf_strv_push(&c, job->changes.v[i]) == 0;
	for (size_t i = 0; i < job->user_extra_symbols.n; i++)
		lists = lists && kf_strv_push(&e, job->user_extra_symbols.v[i]) == 0;
	r->changes = c.v;
	r->extra_symbols = e.v;
	if (!lists || (job->package && !r->package) || (dest_location && !r->dest_location) || !r->module || !r->kernel || !r->spec || !r->kind || !r->strategy || !r->plugin || !r->install_dir ||
	    !r->time || !r->path) {
		kf_record_free(r);
		return NULL;
	}
	return r;
}

/* Writes the module as it will be installed into TMP: stripped, signed, compressed, synced. */
static int write_module(void *data, const char *built, const char *tmp)
{
	struct kforge_job *job = data;
	/* staged outside the modules tree: a kill here leaves nothing beside the modules */
	const char *tmpdir = getenv("TMPDIR");
	_cleanup_free_ char *stage = kf_strdup_printf("%s/kforge-stage-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!stage)
		return -ENOMEM;
	int sfd = mkstemp(stage);
	if (sfd < 0)
		return -errno;
	close(sfd);
	int r = kf_copy_file(built, stage, 0644);
	/* debug info stripped like kbuild's INSTALL_MOD_STRIP=1 (what distributions ship) */
	if (r == 0 && strcmp(kforge_config_get(job->ctx, "install.strip"), "yes") == 0 &&
	    !kf_strv_contains(&job->no_strip, built)) {
		r = kforge_runl(job, NULL, "strip", "--strip-debug", stage, NULL) ? -EIO : 0;
		kf_checkpoint("debug info stripped");
	}
	if (r == 0)
		r = kf_sign_module(job, stage);
	if (r == 0) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		r = fd < 0 ? -errno : kf_compress_file(job->compression, stage, fd);
		if (r == 0 && fsync(fd) < 0)
			r = -errno;
		if (fd >= 0)
			close(fd);
	}
	unlink(stage);
	return r;
}

/*
 * What a re-install staged to compare with what is installed: each built module's file as it
 * would be installed (stripped, signed, compressed), which the transaction then takes as is.
 */
struct staging {
	struct kforge_job *job;
	struct kf_strv built, staged;
};

static void staging_release(struct staging *s)
{
	for (size_t i = 0; i < s->staged.n; i++)
		unlink(s->staged.v[i]);
	kf_strv_free(&s->built);
	kf_strv_free(&s->staged);
}

/* The transaction's writer: the staged file when there is one, else write_module. */
static int write_staged(void *data, const char *built, const char *tmp)
{
	struct staging *s = data;
	for (size_t i = 0; i < s->built.n; i++)
		if (strcmp(s->built.v[i], built) == 0)
			return kf_copy_file(s->staged.v[i], tmp, 0644);
	return write_module(s->job, built, tmp);
}

/* Does the record NOW (sha256 SHA) say what OLD says, but for when it was written and what it replaced? */
static bool same_record(struct kforge_record *now, const struct kforge_record *old, const char *sha)
{
	struct kforge_record saved = *now;
	now->time = old->time;
	now->sha256 = (char *)sha;
	now->replaced = old->replaced;
	now->n_replaced = old->n_replaced;
	_cleanup_free_ char *a = kf_record_text(now);
	*now = saved;
	_cleanup_free_ char *b = kf_record_text(old);
	return a && b && strcmp(a, b) == 0;
}

/*
 * A re-install: is every module installed, intact and the one depmod resolves (its record ok),
 * recorded with the same options, and its file what this build would write? Then nothing is
 * committed (no depmod, no refresh). Stages into S what it compared, for the transaction.
 */
static bool installed_as_built(struct kforge_job *job, struct kf_install_item *items, size_t n, struct staging *s)
{
	struct kforge_record **old = calloc(n ? n : 1, sizeof(*old));
	bool same = old != NULL;
	for (size_t i = 0; same && i < n; i++) {
		_cleanup_free_ char *file = kf_record_file(job->state, job->kernel.release, items[i].name);
		same = file && kf_record_read(file, &old[i], NULL, 0) == 0 && strcmp(old[i]->path, items[i].rec->path) == 0 &&
		       kf_record_check(job->state, old[i]) == KFORGE_RECORD_OK && kf_record_resolves(job->state, old[i]);
	}
	const char *tmpdir = getenv("TMPDIR");
	for (size_t i = 0; same && i < n; i++) {
		_cleanup_free_ char *stage = kf_strdup_printf("%s/kforge-built-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
		int fd = stage ? mkstemp(stage) : -1;
		if (fd < 0) {
			same = false;
			break;
		}
		close(fd);
		char sha[65];
		/* only a file written whole is handed to the transaction; else it writes its own */
		if (write_module(job, items[i].built, stage) < 0 || kf_sha256_file(stage, sha) < 0 ||
		    kf_strv_push(&s->staged, stage) < 0) {
			unlink(stage);
			same = false;
			break;
		}
		if (kf_strv_push(&s->built, items[i].built) < 0) {
			unlink(stage);
			free(s->staged.v[--s->staged.n]);
			s->staged.v[s->staged.n] = NULL;
			same = false;
			break;
		}
		same = same_record(items[i].rec, old[i], sha);
	}
	for (size_t i = 0; old && i < n; i++)
		kf_record_free(old[i]);
	free(old);
	return same && s->staged.n == n;
}

/* The built modules installed as one transaction in the state of the root or --install-mod-path. */
static int install_built(struct kforge_job *job)
{
	int r = kf_job_state(job, true);
	if (r < 0)
		return r;
	struct kf_strv order = { 0 };
	kf_depmod_search_order(kforge_ctx_root(job->ctx), kf_job_depmod_search(job), &order);
	const char *leaf = strrchr(job->module_spec, '/');
	struct kf_install req = {
		.kernel = job->kernel.release,
		.label = leaf && leaf[1] ? leaf + 1 : job->module_spec,
		.install_base = job->install_base,
		.search_order = &order,
		.write = write_module,
		.data = job,
		.owe_refresh = kf_job_owes_refresh(job),
	};
	size_t n = job->built.n;
	struct kf_install_item *items = calloc(n ? n : 1, sizeof(*items));
	r = items ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct kf_install_item *it = &items[i];
		it->built = job->built.v[i];
		it->dest = install_path(job, it->built);
		ssize_t k = built_index(job, it->built);
		it->name = k >= 0 ? strdup(job->built_as.v[k]) : kf_module_name_of(it->built);
		const char *want = k >= 0 && job->built_dest.n == job->built.n ? job->built_dest.v[k] : NULL;
		it->rec = it->dest && it->name ? new_record(job, job->state->base, it->name, it->dest, want) : NULL;
		r = it->rec ? 0 : -ENOMEM;
	}
	struct staging stg = { .job = job };
	if (r == 0 && n && installed_as_built(job, items, n, &stg)) {
		for (size_t i = 0; i < n; i++)
			kf_notice(job->ctx, "%s is already installed as this build would install it: nothing to change",
				  kf_state_path(job->state, items[i].dest));
		job->unchanged = true;
		staging_release(&stg);
		kf_install_items_free(items, n);
		kf_strv_free(&order);
		return 0;
	}
	req.write = write_staged;
	req.data = &stg;
	if (r == 0)
		r = kf_txn_install(job->state, &req, items, n);
	staging_release(&stg);
	kf_install_items_free(items, n);
	kf_strv_free(&order);
	if (r < 0)
		return kf_job_state_failed(job, r);
	/* the refresh looks for the built files' names in the image */
	for (size_t i = 0; i < job->built.n; i++) {
		/* a module installed under another name (DEST_MODULE_NAME) is in the image by that name */
		_cleanup_free_ char *as = built_index(job, job->built.v[i]) >= 0 ? install_path(job, job->built.v[i]) : NULL;
		if (kf_strv_push(&job->affected, as ? as : job->built.v[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

int kforge_default_install(struct kforge_job *job)
{
	int r;
	if (job->plan) {
		_cleanup_free_ char *own = kforge_path_join(job->kernel.build_dir, "Module.symvers", NULL);
		const char *packaged = kforge_job_display_path(job, job->kernel.symvers_packaged);
		if (!kforge_job_modversions(job))
			kforge_plan_note(job, "validate: vermagic %s", job->kernel.release);
		else if (!packaged)
			kforge_plan_note(job, "validate: vermagic %s, every imported symbol's CRC against Module.symvers",
					 job->kernel.release);
		else if (own && kf_is_file(own))
			kforge_plan_note(job, "validate: vermagic %s, every imported symbol's CRC against Module.symvers "
					      "and against %s (the kernel package's: they must agree)",
					 job->kernel.release, packaged);
		else
			kforge_plan_note(job, "validate: vermagic %s, every imported symbol's CRC against %s (the build "
					      "dir has no Module.symvers)",
					 job->kernel.release, packaged);
		if ((r = kf_sign_prepare(job)) < 0)
			return r;
		const char *leaf = strrchr(job->module_spec, '/') ? strrchr(job->module_spec, '/') + 1 : job->module_spec;
		_cleanup_free_ char *dest = kf_strdup_printf("%s/%s/%s.ko%s", job->install_base, job->install_subdir, leaf,
							     kforge_compression_suffix(job->compression));
		const char *base = job->install_mod_path ? job->install_mod_path : kforge_ctx_root(job->ctx);
		kforge_plan_note(job, "lock %s/var/lib/kforge; back up what %s replaces; write it under a temporary "
				      "name (%s%scompression %s), record it, commit (rename), depmod",
				 strcmp(base, "/") ? base : "", kforge_job_display_path(job, dest),
				 strcmp(kforge_config_get(job->ctx, "install.strip"), "yes") == 0 ? "debug info stripped, " : "",
				 job->sign_key ? "signed, " : "", kforge_compression_name(job->compression));
		int status;
		return kf_job_depmod(job, base, job->kernel.release, &status);
	}
	if ((r = kforge_validate(job)) < 0 || (r = kf_sign_prepare(job)) < 0)
		return r;
	return install_built(job);
}
