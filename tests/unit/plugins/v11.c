/* v11.c: a plugin built against ABI 1.1: claims one kernel flavour ("-v11-") of roots whose ID is "testos", has settings. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <kforge/plugin.h>

static int v11_probe(const struct kforge_probe_info *info)
{
	/* what a 1.1 probe is given besides the root: the kernel, the context, its own name */
	if (strcmp(info->os->id, "testos") != 0 || !info->ctx || strcmp(info->plugin, "v11") != 0)
		return KFORGE_SCORE_NONE;
	/* [plugin.v11] flavour: the kernels it claims */
	char needle[64];
	snprintf(needle, sizeof(needle), "-%s-", kforge_probe_config_get(info, "flavour"));
	if (!info->release || !strstr(info->release, needle))
		return KFORGE_SCORE_NONE;
	return KFORGE_SCORE_KERNEL + (info->build_dir != NULL);
}

static const struct kforge_setting v11_settings[] = {
	{ "flavour", "v11", "the kernels v11 claims: releases with -FLAVOUR- in them" },
	{ "colour", "blue", "red, green or blue" },
	{ NULL, NULL, NULL },
};

static int v11_check_setting(const char *key, const char *value, char *why, size_t whysize)
{
	if (strcmp(key, "colour") == 0 && strcmp(value, "red") && strcmp(value, "green") && strcmp(value, "blue")) {
		snprintf(why, whysize, "plugin.v11.colour must be red, green or blue, not \"%s\"", value);
		return -EINVAL;
	}
	if (strcmp(key, "flavour") == 0 && !value[0]) {
		snprintf(why, whysize, "plugin.v11.flavour must not be empty");
		return -EINVAL;
	}
	return 0;
}

KFORGE_PLUGIN_DEFINE(
	.name = "v11",
	.description = "loader test: ABI 1.1",
	.probe = v11_probe,
	.settings = v11_settings,
	.check_setting = v11_check_setting,
);
