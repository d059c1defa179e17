/* gate.c: the validation gate: a module that would not load into the target is never installed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/job.h"

/* One Module.symvers line: CRC, symbol (kept sorted by symbol for bsearch). */
struct sym {
	const char *name;
	unsigned long crc;
};

struct symtab {
	struct sym *v;
	size_t n;
	char **texts;
	size_t ntexts;
};

static int cmp_sym(const void *a, const void *b)
{
	return strcmp(((const struct sym *)a)->name, ((const struct sym *)b)->name);
}

/* Loads PATH's "0xCRC\tsymbol\tmodule\tEXPORT..." lines; the text is kept for the names. */
static int symtab_add(struct symtab *t, const char *path)
{
	char *text;
	int r = kf_read_file(path, &text, NULL);
	if (r < 0)
		return r;
	char **texts = realloc(t->texts, (t->ntexts + 1) * sizeof(*texts));
	if (!texts) {
		free(text);
		return -ENOMEM;
	}
	t->texts = texts;
	t->texts[t->ntexts++] = text;
	for (char *l = text, *next; l && *l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		char *tab = strchr(l, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		char *name = tab + 1, *end = strchr(name, '\t');
		if (end)
			*end = '\0';
		/* room doubles at each power of two: a kernel's Module.symvers has ~30000 lines */
		if ((t->n & (t->n - 1)) == 0) {
			struct sym *v = realloc(t->v, (t->n ? 2 * t->n : 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			t->v = v;
		}
		t->v[t->n++] = (struct sym){ .name = name, .crc = strtoul(l, NULL, 16) };
	}
	return 0;
}

static void symtab_free(struct symtab *t)
{
	for (size_t i = 0; i < t->ntexts; i++)
		free(t->texts[i]);
	free(t->texts);
	free(t->v);
}

static const struct sym *symtab_find(const struct symtab *t, const char *name)
{
	struct sym key = { .name = name };
	return bsearch(&key, t->v, t->n, sizeof(*t->v), cmp_sym);
}

int kf_job_packaged_symvers(struct kforge_job *job, const char **out)
{
	*out = job->packaged_symvers;
	const char *packaged = job->kernel.symvers_packaged;
	if (!packaged || job->packaged_symvers)
		return 0;
	_cleanup_free_ char *dir = kforge_path_join(job->cache_dir ? job->cache_dir : "/tmp", "work",
						    job->kernel.release, NULL);
	_cleanup_free_ char *dst = dir ? kforge_path_join(dir, "symvers", NULL) : NULL;
	_cleanup_free_ char *tmp = dst ? kf_strdup_printf("%s.tmp%ld", dst, (long)getpid()) : NULL;
	if (!tmp)
		return -ENOMEM;
	int r = kf_mkdir_p(dir);
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot make %s: %s", dir, strerror(-r));
	/* decompressed anew each time: a copy kept from before could be damaged or another build's */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot write %s: %s", tmp, strerror(errno));
	r = kf_decompress_file(packaged, fd);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "%s cannot be read (%s): the CRCs of %s cannot be checked; reinstall the kernel "
				       "package that ships it (kernel-core-%s)",
				       kforge_job_display_path(job, packaged), strerror(-r), job->kernel.release,
				       job->kernel.release);
	}
	*out = job->packaged_symvers = dst;
	dst = NULL;
	return 0;
}

/* The release and flags the target's own modules carry, or NULL when none is there to ask. */
static char *reference_vermagic(struct kforge_job *job, struct kmod_ctx *kctx)
{
	/* the tree the module goes into (--install-mod-path holds the kernel's modules too), else
	 * the kernel's own modules folder */
	const char *dirs[] = { job->install_base, job->kernel.modules_dir };
	const char *moddir = NULL;
	_cleanup_free_ char *text = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && !moddir; i++) {
		_cleanup_free_ char *dep = dirs[i] ? kforge_path_join(dirs[i], "modules.dep", NULL) : NULL;
		if (dep && kf_read_file(dep, &text, NULL) == 0 && strchr(text, ':'))
			moddir = dirs[i];
		else {
			free(text);
			text = NULL;
		}
	}
	if (!moddir)
		return NULL;
	char *colon = strchr(text, ':');
	if (!colon)
		return NULL;
	*colon = '\0';
	_cleanup_free_ char *path = kforge_path_join(moddir, text, NULL);
	/* the target's modules may be .ko.gz, .ko.xz or .ko.zst: read a plain copy */
	char *tmpdir = NULL;
	char *plain = path ? kf_module_plain_copy(path, &tmpdir) : NULL;
	struct kmod_module *mod = NULL;
	if (!plain || kmod_module_new_from_path(kctx, plain, &mod) < 0) {
		if (!plain)
			kf_warn(job->ctx, "cannot read %s (%s): the gate checks vermagic against the config instead", path,
				strerror(errno));
		if (plain)
			kf_module_plain_release(plain, tmpdir);
		return NULL;
	}
	char *vm = NULL;
	struct kmod_list *info = NULL, *l;
	if (kmod_module_get_info(mod, &info) >= 0) {
		kmod_list_foreach(l, info) if (strcmp(kmod_module_info_get_key(l), "vermagic") == 0)
			vm = strdup(kmod_module_info_get_value(l));
		kmod_module_info_free_list(info);
	}
	kmod_module_unref(mod);
	kf_module_plain_release(plain, tmpdir);
	return vm;
}

/* Without a reference module: the release, and the flags the config decides. */
static bool flags_agree(struct kforge_job *job, const char *vermagic, char *why, size_t n)
{
	static const struct {
		const char *option, *flag;
	} flags[] = { { "CONFIG_SMP", " SMP " }, { "CONFIG_MODULE_UNLOAD", " mod_unload " },
		      { "CONFIG_MODVERSIONS", " modversions " } };
	_cleanup_free_ char *padded = kf_strdup_printf("%s ", vermagic);
	for (size_t i = 0; padded && i < ARRAY_SIZE(flags); i++) {
		bool want = kforge_job_kconfig(job, flags[i].option) != NULL;
		bool have = strstr(padded, flags[i].flag) != NULL;
		if (want != have) {
			snprintf(why, n, "vermagic \"%s\" %s%s but %s is %s in %s", vermagic, have ? "has" : "lacks",
				 flags[i].flag, flags[i].option, want ? "set" : "not set", job->kernel.release);
			return false;
		}
	}
	return true;
}

/*
 * The package's own symvers (DIST, from DIST_NAME) and the build dir's Module.symvers must agree
 * on the CRC of every symbol the module imports: a kernel-devel of another build of the same
 * release would give a module the kernel refuses.
 */
static int cross_check(struct kforge_job *job, const char *leaf, const char *sym, unsigned long crc,
		       const struct symtab *dist, const char *dist_name)
{
	const struct sym *d = dist && dist->n ? symtab_find(dist, sym) : NULL;
	if (!d || d->crc == crc)
		return 0;
	_cleanup_free_ char *own = kforge_path_join(job->kernel.build_dir, "Module.symvers", NULL);
	return kforge_job_fail(job, KFORGE_EXIT_REFUSED,
			       "refused %s: symbol %s has CRC 0x%08lx in %s but 0x%08lx in %s, which the kernel "
			       "package ships: the build dir is not this kernel's build; reinstall its headers "
			       "(the kernel-devel of %s)",
			       leaf, sym, crc, kforge_job_display_path(job, own), d->crc, dist_name, job->kernel.release);
}

static int check_module(struct kforge_job *job, struct kmod_ctx *kctx, const char *path, const char *ref,
			const struct symtab *syms, const struct symtab *dist, const char *dist_name)
{
	struct kmod_module *mod = NULL;
	int r = kmod_module_new_from_path(kctx, path, &mod);
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_REFUSED, "%s is not a kernel module libkmod can read (%s)", path,
				       strerror(-r));
	_cleanup_free_ char *vermagic = NULL;
	struct kmod_list *list = NULL, *l;
	if (kmod_module_get_info(mod, &list) >= 0) {
		kmod_list_foreach(l, list) if (strcmp(kmod_module_info_get_key(l), "vermagic") == 0 && !vermagic)
			vermagic = strdup(kmod_module_info_get_value(l));
		kmod_module_info_free_list(list);
	}
	const char *leaf = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char why[512];
	size_t rlen = strlen(job->kernel.release);
	if (!vermagic) {
		r = kforge_job_fail(job, KFORGE_EXIT_REFUSED, "refused %s: it has no vermagic: it was not built by kbuild",
				    leaf);
	} else if (strncmp(vermagic, job->kernel.release, rlen) != 0 || vermagic[rlen] != ' ') {
		r = kforge_job_fail(job, KFORGE_EXIT_REFUSED,
				    "refused %s: its vermagic \"%s\" is for another kernel, the target is %s: rebuild it "
				    "with -k %s",
				    leaf, kf_strstrip(vermagic), job->kernel.release, job->kernel.release);
	} else if (ref && strcmp(kf_strstrip(vermagic), kf_strstrip((char *)ref)) != 0) {
		r = kforge_job_fail(job, KFORGE_EXIT_REFUSED,
				    "refused %s: its vermagic \"%s\" differs from the target's own modules' \"%s\"", leaf,
				    vermagic, ref);
	} else if (!ref && !flags_agree(job, kf_strstrip(vermagic), why, sizeof(why))) {
		r = kforge_job_fail(job, KFORGE_EXIT_REFUSED, "refused %s: %s", leaf, why);
	} else if (kforge_job_modversions(job)) {
		struct kmod_list *versions = NULL;
		int nv = kmod_module_get_versions(mod, &versions);
		if (nv <= 0) {
			r = kforge_job_fail(job, KFORGE_EXIT_REFUSED,
					    "refused %s: it carries no symbol CRCs, and %s checks them "
					    "(CONFIG_MODVERSIONS): it was built without M= (make dir/x.ko), rebuild it with "
					    "make -C BUILD M=DIR",
					    leaf, job->kernel.release);
		} else {
			r = 0;
			kmod_list_foreach(l, versions)
			{
				const char *sym = kmod_module_version_get_symbol(l);
				unsigned long crc = (unsigned long)kmod_module_version_get_crc(l);
				const struct sym *s = symtab_find(syms, sym);
				if (!s) {
					r = kforge_job_fail(job, KFORGE_EXIT_REFUSED,
							    "refused %s: it imports %s, which neither %s nor an "
							    "--extra-symbols file exports",
							    leaf, sym, job->kernel.release);
					break;
				}
				if (s->crc != crc) {
					r = kforge_job_fail(job, KFORGE_EXIT_REFUSED,
							    "refused %s: symbol %s has CRC 0x%08lx in the module but "
							    "0x%08lx in %s's Module.symvers: it was built against "
							    "another kernel's symbols",
							    leaf, sym, crc, s->crc, job->kernel.release);
					break;
				}
				if ((r = cross_check(job, leaf, sym, crc, dist, dist_name)) < 0)
					break;
			}
			kmod_module_versions_free_list(versions);
			if (r == 0)
				kf_info(job->ctx, "validated %s: vermagic %s, %d symbol CRCs match%s%s", leaf,
					job->kernel.release, nv, dist_name ? " and agree with " : "",
					dist_name ? dist_name : "");
		}
	} else {
		kf_info(job->ctx, "validated %s: vermagic %s", leaf, job->kernel.release);
		r = 0;
	}
	kmod_module_unref(mod);
	return r;
}

int kforge_validate(struct kforge_job *job)
{
	if (!job->built.n)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "nothing was built to validate");
	struct kmod_ctx *kctx = kmod_new(job->kernel.modules_dir, NULL);
	if (!kctx)
		return -ENOMEM;
	kmod_set_log_priority(kctx, LOG_EMERG);
	struct symtab syms = { 0 }, dist = { 0 };
	int r = 0;
	/* the package's symvers (RHEL family): the CRCs when the build dir has none, else a cross-check */
	const char *packaged = NULL, *dist_name = NULL;
	if (kforge_job_modversions(job)) {
		_cleanup_free_ char *symvers = kforge_path_join(job->kernel.build_dir, "Module.symvers", NULL);
		bool has_own = symvers && kf_is_file(symvers);
		r = kf_job_packaged_symvers(job, &packaged);
		if (r == 0 && packaged) {
			dist_name = kforge_job_display_path(job, job->kernel.symvers_packaged);
			r = symtab_add(has_own ? &dist : &syms, packaged);
			if (r < 0)
				r = kforge_job_fail(job, KFORGE_EXIT_MISSING, "cannot read %s: %s", packaged,
						    strerror(-r));
			else if (dist.n)
				qsort(dist.v, dist.n, sizeof(*dist.v), cmp_sym);
			if (!has_own)
				dist_name = NULL;
		}
		if (r == 0 && !packaged && (r = symtab_add(&syms, symvers)) < 0)
			r = kforge_job_fail(job, KFORGE_EXIT_MISSING,
					    "%s is missing: the CRCs cannot be checked; reinstall %s's headers", symvers,
					    job->kernel.release);
		else if (r == 0 && packaged && has_own && (r = symtab_add(&syms, symvers)) < 0)
			r = kforge_job_fail(job, KFORGE_EXIT_MISSING, "cannot read %s: %s", symvers, strerror(-r));
		for (size_t i = 0; r == 0 && i < job->extra_symbols.n; i++)
			symtab_add(&syms, job->extra_symbols.v[i]);
		/* modules built together export to each other */
		for (size_t i = 0; r == 0 && i < job->built.n; i++) {
			_cleanup_free_ char *dir = strdup(job->built.v[i]);
			if (dir && strrchr(dir, '/')) {
				*strrchr(dir, '/') = '\0';
				_cleanup_free_ char *own = kforge_path_join(dir, "Module.symvers", NULL);
				if (own && kf_is_file(own))
					symtab_add(&syms, own);
			}
		}
		if (syms.n)
			qsort(syms.v, syms.n, sizeof(*syms.v), cmp_sym);
	}
	_cleanup_free_ char *ref = r == 0 ? reference_vermagic(job, kctx) : NULL;
	for (size_t i = 0; r == 0 && i < job->built.n; i++)
		r = check_module(job, kctx, job->built.v[i], ref, &syms, &dist, dist_name);
	symtab_free(&syms);
	symtab_free(&dist);
	kmod_unref(kctx);
	return r;
}
