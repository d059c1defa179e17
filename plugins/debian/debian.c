/* debian: Debian, Ubuntu and their derivatives: linux-source / apt-get source, updates/, initramfs-tools. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kforge/kforge.h>

static int debian_probe(const struct kforge_probe_info *info)
{
	const struct kforge_os_release *os = info->os;
	if (kforge_os_is(os, "debian") || kforge_os_is(os, "ubuntu"))
		return KFORGE_SCORE_EXACT;
	if (kforge_os_is_like(os, "debian") || kforge_os_is_like(os, "ubuntu"))
		return KFORGE_SCORE_FAMILY;
	return KFORGE_SCORE_NONE;
}

/*
 * Where modules go: the core's updates/ is right here. depmod prefers it over kernel/ on
 * Debian (no search line) and on Ubuntu (depmod.d/ubuntu.conf); DKMS uses updates/dkms.
 */
static const char *const *debian_depmod_search(const struct kforge_probe_info *info)
{
	static const char *const ubuntu[] = { "updates", "ubuntu", "built-in", NULL };
	/* Debian ships no search line: depmod's default applies */
	return kforge_os_is(info->os, "ubuntu") || kforge_os_is_like(info->os, "ubuntu") ? ubuntu : NULL;
}

/* Key pairs made by shim-signed's update-secureboot-policy (Ubuntu, Debian) and by DKMS. */
static const struct kforge_sign_key debian_sign_keys[] = {
	{ "/var/lib/shim-signed/mok/MOK.priv", "/var/lib/shim-signed/mok/MOK.der" },
	{ "/var/lib/dkms/mok.key", "/var/lib/dkms/mok.pub" },
	{ NULL, NULL },
};

/* initramfs-tools; dracut where it replaced it (Ubuntu from 25.10), writing the same image. */
static const struct kforge_initramfs debian_initramfs[] = {
	{
		.name = "initramfs-tools",
		.detect = (const char *const[]){ "/usr/sbin/update-initramfs", "/etc/initramfs-tools/initramfs.conf", NULL },
		.image = "/boot/initrd.img-%k",
		.lister = (const char *const[]){ "lsinitramfs", NULL },
		.command = (const char *const[]){ "update-initramfs", "-u", "-k", "%k", NULL },
	},
	{
		.name = "dracut",
		.detect = (const char *const[]){ "/usr/bin/dracut", "/usr/sbin/dracut", "/etc/dracut.conf", NULL },
		.image = "/boot/initrd.img-%k",
		.lister = (const char *const[]){ "lsinitrd", NULL },
		.command = (const char *const[]){ "dracut", "-f", "--kver", "%k", NULL },
	},
	{ NULL },
};

/* linux-headers-KVER provides /lib/modules/KVER/build (-> /usr/src/linux-headers-KVER). */
static int debian_build_dir_hint(const struct kforge_probe_info *info, char *hint, size_t size)
{
	snprintf(hint, size, "install linux-headers-%s", info->release);
	return 0;
}

/* The installed version of PACKAGE in dpkg's status file text, copied into VERSION. */
static int dpkg_version(const char *status, const char *package, char *version, size_t size)
{
	char key[256];
	snprintf(key, sizeof(key), "Package: %s\n", package);
	for (const char *p = status; (p = strstr(p, key)); p += strlen(key)) {
		if (p != status && p[-1] != '\n')
			continue;
		const char *end = strstr(p, "\n\n");
		const char *st = strstr(p, "\nStatus: ");
		const char *ver = strstr(p, "\nVersion: ");
		if (!st || !ver || (end && (st > end || ver > end)))
			continue;
		if (strncmp(st + 9, "install ok installed", 20) != 0)
			continue;
		ver += 10;
		size_t n = strcspn(ver, "\n");
		snprintf(version, size, "%.*s", (int)n, ver);
		return 0;
	}
	return -1;
}

/* True when apt has deb-src lines under the root (one-line or deb822 sources). */
static int has_deb_src(const char *root)
{
	static const char *const files[] = { "/etc/apt/sources.list", "/etc/apt/sources.list.d/debian.sources",
					     "/etc/apt/sources.list.d/ubuntu.sources" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *host = kforge_path_find(root, files[i]);
		char *text = NULL;
		if (host)
			kforge_read_file(host, &text);
		int found = 0;
		for (char *l = text; l && *l && !found; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
			while (*l == ' ' || *l == '\t')
				l++;
			found = strncmp(l, "deb-src ", 8) == 0 ||
				(strncmp(l, "Types:", 6) == 0 && strstr(l, "deb-src") && strstr(l, "deb-src") < strchr(l, '\n'));
		}
		free(text);
		free(host);
		if (found)
			return 1;
	}
	return 0;
}

/*
 * The source of the target kernel: linux-source-X.Y's tarball when its package version is the
 * kernel's, else `apt-get source linux=VERSION` where deb-src is configured; --source wins.
 */
static int debian_locate_source(struct kforge_job *job)
{
	if (kforge_job_module_kind(job) == KFORGE_MODULE_EXTERNAL || kforge_job_source(job))
		return kforge_default_locate_source(job);
	const char *root = kforge_job_root(job);
	const char *kver = kforge_job_kernel(job);
	const struct kforge_release *rel = kforge_job_release(job);
	char *status_path = kforge_path_find(root, "/var/lib/dpkg/status");
	char *status = NULL;
	if (status_path)
		kforge_read_file(status_path, &status);
	free(status_path);
	char kpkg[128], kversion[128] = "", spkg[64], sversion[128] = "";
	const char *prefixes[] = { "linux-image-", "linux-image-unsigned-", "linux-headers-" };
	for (size_t i = 0; status && i < 3 && !kversion[0]; i++) {
		snprintf(kpkg, sizeof(kpkg), "%s%s", prefixes[i], kver);
		dpkg_version(status, kpkg, kversion, sizeof(kversion));
	}
	/* Debian: linux-source-6.1 -> /usr/src/linux-source-6.1.tar.xz;
	 * Ubuntu: linux-source-6.8.0 -> /usr/src/linux-source-6.8.0/linux-source-6.8.0.tar.bz2 */
	char tarball[256] = "";
	for (int ubuntu = 0; status && ubuntu < 2 && !sversion[0]; ubuntu++) {
		snprintf(spkg, sizeof(spkg), "linux-source-%u.%u%s", rel->version, rel->patchlevel, ubuntu ? ".0" : "");
		if (dpkg_version(status, spkg, sversion, sizeof(sversion)) < 0)
			continue;
		if (ubuntu)
			snprintf(tarball, sizeof(tarball), "/usr/src/%s/%s.tar.bz2", spkg, spkg);
		else
			snprintf(tarball, sizeof(tarball), "/usr/src/%s.tar.xz", spkg);
	}
	free(status);
	snprintf(spkg, sizeof(spkg), "linux-source-%u.%u", rel->version, rel->patchlevel);
	if (sversion[0] && kversion[0] && strcmp(sversion, kversion) == 0) {
		char *host = kforge_path_find(root, tarball);
		if (!host)
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "%s is installed but %s is missing: reinstall it (apt-get install --reinstall %s)",
					       spkg, tarball, spkg);
		kforge_plan_note(job, "%s %s is the source of %s (%s %s)", spkg, sversion, kver, kpkg, kversion);
		int r = kforge_job_set_source(job, host);
		free(host);
		return r < 0 ? r : kforge_default_locate_source(job);
	}
	if (kversion[0] && has_deb_src(root)) {
		char *dir = NULL, spec[192];
		if (asprintf(&dir, "%s/apt-source/%s", kforge_job_cache_dir(job), kversion) < 0)
			return -12;
		snprintf(spec, sizeof(spec), "linux=%s", kversion);
		kforge_plan_note(job, "deb-src is configured: the source package linux %s", kversion);
		if (!kforge_job_is_plan(job))
			kforge_runl(job, NULL, "mkdir", "-p", dir, NULL);
		int r = kforge_runl(job, dir, "apt-get", "source", "--only-source", spec, NULL);
		if (r != 0) {
			free(dir);
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "apt-get source %s failed: install %s %s instead, or pass --source PATH", spec,
					       spkg, kversion);
		}
		/* dpkg-source unpacks into linux-UPSTREAM, with Debian's patches applied */
		char *tree = NULL;
		char upstream[128];
		snprintf(upstream, sizeof(upstream), "%s", kversion);
		upstream[strcspn(upstream, "-")] = '\0';
		if (asprintf(&tree, "%s/linux-%s", dir, upstream) < 0)
			tree = NULL;
		free(dir);
		int s = tree ? kforge_job_set_source(job, tree) : -12;
		free(tree);
		return s < 0 ? s : kforge_default_locate_source(job);
	}
	if (!kversion[0])
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "no package of %s is installed (linux-image-%s or linux-headers-%s): pass "
				       "--source PATH with the kernel's source tree or tarball",
				       kver, kver, kver);
	if (sversion[0])
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "%s is %s but %s is %s: the source must be the kernel's own; run apt-get install "
				       "%s=%s, or pass --source PATH",
				       spkg, sversion, kver, kversion, spkg, kversion);
	return kforge_job_fail(job, KFORGE_EXIT_MISSING,
			       "no source for %s: install %s (apt-get install %s=%s), or add deb-src lines to apt's "
			       "sources for apt-get source, or pass --source PATH",
			       kver, spkg, spkg, kversion);
}

KFORGE_PLUGIN_DEFINE(
	.name = "debian",
	.description = "Debian and Ubuntu: linux-source and linux-headers packages, initramfs-tools",
	.probe = debian_probe,
	.locate_source = debian_locate_source,
	.sign_keys = debian_sign_keys,
	.initramfs = debian_initramfs,
	.depmod_search = debian_depmod_search,
	.build_dir_hint = debian_build_dir_hint,
);
