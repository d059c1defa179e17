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
	const char *argv[8] = { NULL };
	const char *lister[4] = { NULL };
	_cleanup_free_ char *img = NULL, *kimg = NULL;
	if (strcmp(gen, "initramfs-tools") == 0) {
		img = kf_strdup_printf("/boot/initrd.img-%s", kver);
		const char *a[] = { "update-initramfs", "-u", "-k", kver, NULL };
		memcpy(argv, a, sizeof(a));
		lister[0] = "lsinitramfs";
	} else if (strcmp(gen, "dracut") == 0) {
		img = kf_strdup_printf("/boot/initramfs-%s.img", kver);
		const char *a[] = { "dracut", "-f", "--kver", kver, NULL };
		memcpy(argv, a, sizeof(a));
		lister[0] = "lsinitrd";
	} else if (strcmp(gen, "mkinitcpio") == 0) {
		img = strdup("/boot/initramfs-custom.img");
		const char *a[] = { "mkinitcpio", "-k", kver, "-g", img, NULL };
		memcpy(argv, a, sizeof(a));
		lister[0] = "lsinitcpio";
	} else if (strcmp(gen, "booster") == 0) {
		img = strdup("/boot/booster-custom.img");
		const char *a[] = { "booster", "build", "--force", "--kernel-version", kver, img, NULL };
		memcpy(argv, a, sizeof(a));
		lister[0] = "lsinitcpio";
	} else if (strcmp(gen, "kernel-install") == 0) {
		img = kernel_install_image(job);
		kimg = kf_strdup_printf("/usr/lib/modules/%s/vmlinuz", kver);
		if (kimg && !kforge_path_exists(kforge_ctx_root(job->ctx), kimg)) {
			free(kimg);
			kimg = kf_strdup_printf("/boot/vmlinuz-%s", kver);
		}
		const char *a[] = { "kernel-install", "add", kver, kimg, NULL };
		memcpy(argv, a, sizeof(a));
		lister[0] = "lsinitrd";
	} else {
		return kforge_job_fail(job, KFORGE_EXIT_MISSING, "unknown initramfs generator \"%s\"", gen);
	}
	if (!img)
		return -ENOMEM;
	_cleanup_free_ char *host_img = kforge_path_find(kforge_ctx_root(job->ctx), img);
	lister[1] = host_img ? host_img : img;
	bool needed = job->initramfs_forced || ((host_img || job->plan) && kforge_job_initramfs_needed(job, lister));
	const char *spec = job->affected_name ? job->affected_name : job->module_spec;
	const char *leaf = strrchr(spec, '/');
	leaf = leaf && leaf[1] ? leaf + 1 : spec;
	if (job->plan) {
		if (job->initramfs_forced)
			kforge_plan_note(job, "--initramfs or install.initramfs = always: refreshed whatever %s holds:", img);
		else
			kforge_plan_note(job, "only when %s is in %s (the command above), or with --initramfs:", leaf, img);
		return kforge_run(job, NULL, argv) ? -EIO : 0;
	}
	if (!needed) {
		kf_info(job->ctx, "%s is not in %s: the initramfs stays as it is (--initramfs refreshes it anyway)", leaf,
			host_img ? img : "any initramfs");
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
