/* acme.c: an example vendor plugin: ACME's real-time kernels on Debian, beside the debian plugin. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <kforge/kforge.h>

/*
 * Built out of tree against the installed SDK (see Makefile) into acme.so and dropped into
 * /etc/kforge/plugins.d, it claims one flavour of Debian's kernels, the -rt- ones unless
 * kforge.conf says another ([plugin.acme] flavour), above the debian plugin, which keeps
 * the others. It says only what differs: the initramfs generator, depmod's order and
 * Debian's own key locations come from the debian plugin, the next that claims the system.
 */

/* Its own section of kforge.conf, [plugin.acme]; `kforge config` lists these. */
static const struct kforge_setting acme_settings[] = {
	{ "flavour", "rt", "the flavour of Debian kernel ACME ships: 6.1.0-56-FLAVOUR-amd64" },
	{ "install_dir", "updates/acme", "where ACME's modules go under lib/modules/KVER (ahead of kernel/)" },
	{ NULL, NULL, NULL },
};

/* A bad value in kforge.conf is an error that kforge prints after file:line. */
static int acme_check_setting(const char *key, const char *value, char *why, size_t whysize)
{
	if (strcmp(key, "flavour") == 0 &&
	    (!value[0] || strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(value))) {
		snprintf(why, whysize, "plugin.acme.flavour must be a word of lower-case letters and digits, like rt, not \"%s\"",
			 value);
		return -EINVAL;
	}
	if (strcmp(key, "install_dir") == 0 && (!value[0] || value[0] == '/' || strstr(value, ".."))) {
		snprintf(why, whysize, "plugin.acme.install_dir must be a folder under lib/modules/KVER, like updates/acme, not \"%s\"",
			 value);
		return -EINVAL;
	}
	return 0;
}

static int acme_probe(const struct kforge_probe_info *info)
{
	if (!kforge_os_is(info->os, "debian") && !kforge_os_is_like(info->os, "debian"))
		return KFORGE_SCORE_NONE;
	/* the probe sees the target kernel: ACME's are the kernels of its flavour */
	char flavour[80];
	snprintf(flavour, sizeof(flavour), "-%s-", kforge_probe_config_get(info, "flavour"));
	if (!info->release || !strstr(info->release, flavour))
		return KFORGE_SCORE_NONE;
	return KFORGE_SCORE_KERNEL;
}

static int acme_setup(struct kforge_job *job)
{
	/* ACME keeps its modules apart from everyone else's, still ahead of kernel/ */
	return kforge_job_set_install_subdir(job, kforge_plugin_config_get(job, "install_dir"));
}

static int acme_locate_source(struct kforge_job *job)
{
	/* the core's default does the work; the vendor adds its word around it */
	int r = kforge_default_locate_source(job);
	if (r < 0)
		return r;
	kforge_plan_note(job, "ACME: sources for %s are taken as they are (no ACME patches needed)",
			 kforge_job_kernel(job));
	return 0;
}

/* ACME's module signing key, tried after kforge's own and before Debian's (from the debian plugin). */
static const struct kforge_sign_key acme_sign_keys[] = {
	{ "/etc/acme/keys/module-signing.key", "/etc/acme/keys/module-signing.der" },
	{ NULL, NULL },
};

/* The headers of ACME's kernels come from ACME's repository, not Debian's. */
static int acme_build_dir_hint(const struct kforge_probe_info *info, char *hint, size_t size)
{
	snprintf(hint, size, "install acme-headers-%s from ACME's repository (deb https://apt.acme.example bookworm main)",
		 info->release);
	return 0;
}

KFORGE_PLUGIN_DEFINE(
	.name = "acme",
	.description = "ACME's real-time kernels on Debian (example vendor plugin from the kforge SDK)",
	.probe = acme_probe,
	.setup = acme_setup,
	.locate_source = acme_locate_source,
	/* ABI 1.1 */
	.settings = acme_settings,
	.check_setting = acme_check_setting,
	.sign_keys = acme_sign_keys,
	.build_dir_hint = acme_build_dir_hint,
);
