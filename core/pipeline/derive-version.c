/* derive-version.c: the default "derive version" step: the make variables that reproduce the release. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "pipeline/steps.h"

/* make's variable list for the release: "KERNELRELEASE=..." etc., appended to ARGV at N. */
size_t kf_add_make_vars(const struct kforge_job *job, const char **argv, size_t n, size_t max)
{
	for (size_t i = 0; i < job->make_vars.n && n < max - 1; i++)
		argv[n++] = job->make_vars.v[i];
	return n;
}

const char *kf_make_jobs(struct kforge_job *job, char *buf, size_t size)
{
	if (kf_ctx_jobserver(job->ctx))
		return NULL;
	snprintf(buf, size, "-j%u", job->jobs);
	return buf;
}

/* PATH's real path into V when it exists (bubblewrap binds only what is there, links resolved)
 * and no folder of V holds it already */
static void push_real(struct kf_strv *v, const char *path)
{
	_cleanup_free_ char *real = path ? realpath(path, NULL) : NULL;
	if (!real || strcmp(real, "/") == 0)
		return;
	for (size_t i = 0; i < v->n; i++) {
		size_t n = strlen(v->v[i]);
		if (strncmp(real, v->v[i], n) == 0 && (real[n] == '/' || !real[n]))
			return;
	}
	kf_strv_push(v, real);
}

int kf_run_build(struct kforge_job *job, const char *cwd, const char *const argv[], const char *writable)
{
	struct kf_strv ro = { 0 }, rw = { 0 }, env = { 0 };
	push_real(&ro, kforge_ctx_root(job->ctx));
	push_real(&ro, job->source_dir);
	push_real(&ro, job->module_origin);
	push_real(&ro, job->kbuild_dir);
	push_real(&ro, job->kernel.build_dir);
	push_real(&ro, job->packaged_symvers);
	for (size_t i = 0; i < job->extra_symbols.n; i++)
		push_real(&ro, job->extra_symbols.v[i]);
	kf_strv_push(&rw, writable);
	/* the run's jobserver: this make takes a token for each job beyond its first */
	struct kf_jobserver *js = kf_ctx_jobserver(job->ctx);
	_cleanup_free_ char *makeflags = js ? kf_jobserver_makeflags(js) : NULL;
	if (makeflags)
		kf_strv_push(&env, makeflags);
	/* ccache writes its cache as the build user: the module's own, handed over and back as its folder */
	if (job->ccache && !job->module_origin && !job->module_dir) {
		/* no module folder yet (configure's olddefconfig): no cache to share with anyone */
		kf_strv_push(&env, "CCACHE_DISABLE=1");
	} else if (job->ccache) {
		_cleanup_free_ char *dir = kf_ccache_dir(job);
		_cleanup_free_ char *var = dir ? kf_strdup_printf("CCACHE_DIR=%s", dir) : NULL;
		if (dir && var && (job->plan || kf_mkdir_p(dir) == 0)) {
			kf_strv_push(&rw, dir);
			kf_strv_push(&env, var);
			/* its settings are kforge's: none read from a file the build could write */
			kf_strv_push(&env, "CCACHE_CONFIGPATH=/dev/null");
		}
	}
	/* distcc: the hosts, ccache's misses handed to it; the compiles reach them over the network */
	_cleanup_free_ char *hosts = job->distcc_hosts ? kf_strdup_printf("DISTCC_HOSTS=%s", job->distcc_hosts) : NULL;
	if (hosts)
		kf_strv_push(&env, hosts);
	if (hosts && job->ccache)
		kf_strv_push(&env, "CCACHE_PREFIX=distcc");
	struct kforge_sandbox sb = {
		.readable = (const char *const *)ro.v,
		.writable = (const char *const *)rw.v,
		.env = (const char *const *)env.v,
		.network = job->distcc_hosts != NULL,
	};
	int r = kforge_run_sandboxed(job, cwd, argv, &sb, NULL);
	kf_strv_free(&ro);
	kf_strv_free(&rw);
	kf_strv_free(&env);
	return r;
}

bool kf_target_cc(const struct kforge_job *job, char *cc, size_t size)
{
	const char *text = kforge_job_kconfig(job, "CONFIG_CC_VERSION_TEXT");
	if (!text || (strncmp(text, "gcc", 3) != 0 && strncmp(text, "clang", 5) != 0))
		return false;
	snprintf(cc, size, "%.*s", (int)strcspn(text, " "), text);
	return true;
}

char *kf_ccache_dir(const struct kforge_job *job)
{
	const char *dir = job->module_origin ? job->module_origin : job->module_dir ? job->module_dir : "";
	const char *leaf = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	return kf_strdup_printf("%s/ccache/%s/%.40s-%08lx", job->cache_dir, job->kernel.release, leaf[0] ? leaf : "module",
				kf_hash_str(KF_HASH_SEED, dir) & 0xffffffffUL);
}

/*
 * How the compiler runs: build.cc_launcher (icecc, sccache) as given; else ccache (build.ccache
 * auto: when installed) and distcc (build.distcc, else DISTCC_HOSTS), ccache handing its misses
 * to distcc (CCACHE_PREFIX). CC becomes "LAUNCHER COMPILER", the compiler being the one the
 * target was built with (CONFIG_CC_VERSION_TEXT's first word: gcc-12, clang), else gcc.
 */
static int add_cc_launcher(struct kforge_job *job)
{
	const char *launcher = kforge_config_get(job->ctx, "build.cc_launcher");
	const char *mode = kforge_config_get(job->ctx, "build.ccache");
	const char *hosts = kforge_config_get(job->ctx, "build.distcc");
	if (!hosts[0] && getenv("DISTCC_HOSTS"))
		hosts = getenv("DISTCC_HOSTS");
	job->ccache = false;
	free(job->distcc_hosts);
	job->distcc_hosts = NULL;
	struct kf_strbuf cmd = { 0 };
	if (launcher[0]) {
		kf_strbuf_append(&cmd, launcher);
		/* ccache itself (not sccache): it gets its cache folder */
		size_t w = strcspn(launcher, " \t");
		job->ccache = (w == 6 && strncmp(launcher, "ccache", 6) == 0) ||
			      (w > 6 && strncmp(launcher + w - 7, "/ccache", 7) == 0);
	} else {
		_cleanup_free_ char *ccache = strcmp(mode, "no") != 0 ? kforge_find_program("ccache") : NULL;
		if (!ccache && strcmp(mode, "yes") == 0)
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "build.ccache = yes, and ccache is not installed: install it (apt-get install "
					       "ccache, dnf install ccache, pacman -S ccache) or set build.ccache = auto");
		if (hosts[0]) {
			_cleanup_free_ char *distcc = kforge_find_program("distcc");
			if (!distcc)
				return kforge_job_fail(job, KFORGE_EXIT_MISSING,
						       "distcc hosts are set (%s), and distcc is not installed: install it "
						       "(apt-get install distcc, dnf install distcc, pacman -S distcc) or unset "
						       "them",
						       getenv("DISTCC_HOSTS") == hosts ? "DISTCC_HOSTS" : "build.distcc");
			if (!(job->distcc_hosts = strdup(hosts)))
				return -ENOMEM;
			if (!job->plan)
				kf_info(job->ctx, "compiles go to the distcc hosts %s (%s): the build has the network, and "
						  "their objects are trusted as this machine's",
					hosts, getenv("DISTCC_HOSTS") == hosts ? "DISTCC_HOSTS" : "build.distcc");
		}
		job->ccache = ccache != NULL;
		/* ccache first: its hits never leave the machine, its misses go to distcc (CCACHE_PREFIX) */
		kf_strbuf_append(&cmd, ccache ? "ccache" : job->distcc_hosts ? "distcc" : "");
	}
	_cleanup_free_ char *what = kf_strbuf_steal(&cmd);
	if (!what || !what[0])
		return what ? 0 : -ENOMEM;
	char cc[64];
	if (!kf_target_cc(job, cc, sizeof(cc)))
		strcpy(cc, "gcc");
	kforge_plan_note(job, "compiles run through %s%s%s%s", what, job->distcc_hosts && job->ccache ? " then distcc" : "",
			 job->distcc_hosts ? " on " : "", job->distcc_hosts ? job->distcc_hosts : "");
	_cleanup_free_ char *var = kf_strdup_printf("CC=%s %s", what, cc);
	return var ? kforge_job_add_make_var(job, var) : -ENOMEM;
}

int kforge_default_derive_version(struct kforge_job *job)
{
	const struct kforge_release *rel = &job->kernel.rel;
	char ver[32];
	kforge_release_version_string(rel, ver, sizeof(ver));
	kforge_plan_note(job, "release %s: version %s, EXTRAVERSION \"%s\", localversion \"%s\", override %s%s",
			 rel->release, ver, rel->extraversion, rel->localversion,
			 kforge_release_override_name(rel->override),
			 rel->from_build_dir ? "" : " (guessed from the string: no Makefile in the build dir)");
	int r = add_cc_launcher(job);
	if (r < 0)
		return r;
	if (job->strategy != KFORGE_STRATEGY_FULL || job->kind == KFORGE_MODULE_EXTERNAL)
		return 0;
	/* KERNELRELEASE on make's command line reproduces any release exactly (verified on 6.1) */
	_cleanup_free_ char *kr = kf_strdup_printf("KERNELRELEASE=%s", rel->release);
	return kr ? kforge_job_add_make_var(job, kr) : -ENOMEM;
}

