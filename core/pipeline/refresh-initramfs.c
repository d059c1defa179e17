/* refresh-initramfs.c: the default "refresh initramfs" step, per generator. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "pipeline/steps.h"


bool kforge_job_initramfs_needed(struct kforge_job *job, const char *const lister[])
{
	if (job->initramfs_forced)
		return true;
	_cleanup_free_ char *out = NULL;
	if (kforge_run_capture(job, NULL, lister, &out) != 0 || job->plan)
		return false;
	for (size_t i = 0; i < job->affected.n; i++) {
		const char *leaf = strrchr(job->affected.v[i], '/') + 1;
		_cleanup_free_ char *needle = kf_strdup_printf("/%s", leaf);
		if (needle && strstr(out, needle))
			return true;
	}
	return false;
}

/* kernel-install's image of the kernel: ENTRY_TOKEN/KVER/initrd in the boot or EFI partition. */
static char *kernel_install_image(struct kforge_job *job)
{
	const char *root = kforge_ctx_root(job->ctx);
	_cleanup_free_ char *token = NULL;
	static const char *const token_files[] = { "/etc/kernel/entry-token", "/etc/machine-id" };
	for (size_t i = 0; i < ARRAY_SIZE(token_files) && !token; i++) {
		_cleanup_free_ char *p = kforge_path_find(root, token_files[i]);
		if (p && kf_read_file(p, &token, NULL) == 0 && !kf_strstrip(token)[0]) {
			free(token);
			token = NULL;
		}
	}
	static const char *const tops[] = { "/boot", "/efi", "/boot/efi" };
	char *first = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(tops); i++) {
		char *img = kf_strdup_printf("%s/%s/%s/initrd", tops[i], token ? kf_strstrip(token) : "", job->kernel.release);
		if (img && kforge_path_exists(root, img)) {
			free(first);
			return img;
		}
		if (!first)
			first = img;
		else
			free(img);
	}
	return first;
}

static int refresh(struct kforge_job *job, const char *const argv[], const char *img, bool have_img, bool needed);

/* TEMPLATE with %k the release and %i the image (%% a percent sign), malloc'd. */
static char *expand(const char *template, const char *kver, const char *img)
{
	struct kf_strbuf b = { 0 };
	for (const char *p = template; *p; p++) {
		if (p[0] == '%' && p[1] == 'k') {
			kf_strbuf_append(&b, kver);
			p++;
		} else if (p[0] == '%' && p[1] == 'i') {
			kf_strbuf_append(&b, img ? img : "");
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			kf_strbuf_append(&b, "%");
			p++;
		} else {
			char c[2] = { *p, '\0' };
			kf_strbuf_append(&b, c);
		}
	}
	return b.s ? kf_strbuf_steal(&b) : strdup("");
}

#define MAX_ARGS 16

int kforge_default_refresh_initramfs(struct kforge_job *job)
{
	const char *gen = job->initramfs;
	const char *kver = job->kernel.release;
	if (job->install_mod_path) {
		kforge_plan_note(job, "installed under --install-mod-path %s: not the system's initramfs, nothing to refresh",
				 job->install_mod_path);
		return 0;
	}
	if (strcmp(gen, "none") == 0) {
		kforge_plan_note(job, "no initramfs generator under the root: nothing to refresh");
		return 0;
	}
	const char *argv[MAX_ARGS + 1] = { NULL };
	const char *lister[MAX_ARGS + 2] = { NULL };
	/* the expanded words of the generator's command, freed at the end */
	struct kf_strv words = { 0 };
	_cleanup_free_ char *img = NULL, *kimg = NULL;
	const struct kforge_initramfs *g = NULL;
	if (strcmp(gen, "kernel-install") == 0) {
		/* systemd's, the same on every distribution */
		img = kernel_install_image(job);
		kimg = kf_strdup_printf("/usr/lib/modules/%s/vmlinuz", kver);
		if (kimg && !kforge_path_exists(kforge_ctx_root(job->ctx), kimg)) {
			free(kimg);
			kimg = kf_strdup_printf("/boot/vmlinuz-%s", kver);
		}
		const char *a[] = { "kernel-install", "add", kver, kimg, NULL };
		memcpy(argv, a, sizeof(a));
		lister[0] = "lsinitrd";
	} else if ((g = kf_job_initramfs_generator(job, gen)) && g->image && g->command && g->command[0] && g->lister &&
		   g->lister[0]) {
		/* the distribution's, as its plugin describes it */
		img = expand(g->image, kver, NULL);
		for (size_t i = 0; img && g->command[i] && i < MAX_ARGS; i++) {
			_cleanup_free_ char *w = expand(g->command[i], kver, img);
			if (!w || kf_strv_push(&words, w) < 0)
				break;
		}
		for (size_t i = 0; i < words.n; i++)
			argv[i] = words.v[i];
		for (size_t i = 0; g->lister[i] && i < MAX_ARGS; i++)
			lister[i] = g->lister[i];
	} else {
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "unknown initramfs generator \"%s\": no plugin of this system describes it (see "
				       "`kforge plugins`)",
				       gen);
	}
	if (!img || (g && !argv[0])) {
		kf_strv_free(&words);
		return -ENOMEM;
	}
	_cleanup_free_ char *host_img = kforge_path_find(kforge_ctx_root(job->ctx), img);
	size_t nl = 0;
	while (lister[nl])
		nl++;
	lister[nl] = host_img ? host_img : img;
	bool needed = job->initramfs_forced || ((host_img || job->plan) && kforge_job_initramfs_needed(job, lister));
	int r = refresh(job, argv, img, host_img != NULL, needed);
	kf_strv_free(&words);
	return r;
}

/* Runs the generator ARGV when NEEDED (in a plan: records it, with a note on when it runs). */
static int refresh(struct kforge_job *job, const char *const argv[], const char *img, bool have_img, bool needed)
{
	const char *kver = job->kernel.release;
	const char *spec = job->affected_name ? job->affected_name : job->module_spec;
	const char *leaf = strrchr(spec, '/');
	leaf = leaf && leaf[1] ? leaf + 1 : spec;
	if (!job->affected_name && job->package) /* a DKMS package: NAME/VER, not the last part of its spec */
		leaf = job->package;
	if (job->plan) {
		if (job->initramfs_forced)
			kforge_plan_note(job, "--initramfs or install.initramfs = always: refreshed whatever %s holds:", img);
		else
			kforge_plan_note(job, "only when %s is in %s (the command above), or with --initramfs:", leaf, img);
		return kforge_run(job, NULL, argv) ? -EIO : 0;
	}
	if (job->unchanged && !job->initramfs_forced) {
		kf_info(job->ctx, "%s: nothing changed, the initramfs stays as it is", leaf);
		return 0;
	}
	if (!needed) {
		kf_info(job->ctx, "%s is not in %s: the initramfs stays as it is (--initramfs refreshes it anyway)", leaf,
			have_img ? img : "any initramfs");
		return 0;
	}
	kf_info(job->ctx, "refreshing the initramfs of %s with %s", kver, argv[0]);
	if (kforge_run(job, NULL, argv) != 0)
		return kforge_initramfs_failed(job, argv);
	return 0;
}

int kforge_initramfs_failed(struct kforge_job *job, const char *const argv[])
{
	_cleanup_free_ char *cmd = kf_argv_quote(argv);
	return kforge_job_fail(job, KFORGE_EXIT_FAILURE,
			       "%s failed (its output is above): the module stays installed and recorded, but the initramfs "
			       "of %s still holds what it held; fix the cause and run it again: %s (the next kforge install "
			       "or uninstall for %s retries it; log: %s)",
			       argv[0], job->kernel.release, cmd ? cmd : argv[0], job->kernel.release,
			       job->runner.log_path ? job->runner.log_path : "none");
}
