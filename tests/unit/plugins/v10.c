/*
 * v10.c: a plugin built against ABI 1.0, as kforge 0.1.0's SDK laid the descriptor out, with
 * words right after it that would crash a host reading them as the fields 1.1 appended. It
 * claims roots whose ID is "oldos"; its setup and locate-source hooks leave traces in the plan.
 */
#include <kforge/kforge.h>

/* struct kforge_plugin of ABI 1.0: nothing after refresh_initramfs */
struct kforge_plugin_1_0 {
	unsigned int abi_major;
	unsigned int abi_minor;
	const char *name;
	const char *description;
	int (*probe)(const struct kforge_probe_info *info);
	kforge_step_fn setup;
	kforge_step_fn locate_source;
	kforge_step_fn derive_version;
	kforge_step_fn configure;
	kforge_step_fn prepare;
	kforge_step_fn compile;
	kforge_step_fn install;
	kforge_step_fn refresh_initramfs;
};

static int v10_probe(const struct kforge_probe_info *info)
{
	/* a 1.0 probe knows root and os only */
	return kforge_os_is(info->os, "oldos") ? KFORGE_SCORE_EXACT : KFORGE_SCORE_NONE;
}

static int v10_setup(struct kforge_job *job)
{
	return kforge_job_set_install_subdir(job, "updates/v10");
}

static int v10_locate_source(struct kforge_job *job)
{
	int r = kforge_default_locate_source(job);
	if (r < 0)
		return r;
	kforge_plan_note(job, "v10: a 1.0 plugin's hook ran");
	return 0;
}

/* what a careless host would take for settings, check_setting and later fields: unmapped addresses */
#define POISON ((const void *)0x10)
static const struct {
	struct kforge_plugin_1_0 d;
	const void *past[16];
} v10 = {
	.d = {
		.abi_major = 1,
		.abi_minor = 0,
		.name = "v10",
		.description = "loader test: ABI 1.0",
		.probe = v10_probe,
		.setup = v10_setup,
		.locate_source = v10_locate_source,
	},
	.past = { POISON, POISON, POISON, POISON, POISON, POISON, POISON, POISON,
		  POISON, POISON, POISON, POISON, POISON, POISON, POISON, POISON },
};

/* the exported descriptor is the 1.0 struct at the start of the block above */
KFORGE_PLUGIN_EXPORT extern const struct kforge_plugin_1_0 kforge_plugin_descriptor __attribute__((alias("v10")));
