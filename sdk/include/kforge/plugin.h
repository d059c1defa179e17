/* kforge/plugin.h: the plugin ABI: one exported const descriptor per plugin. */
#pragma once

#include <stddef.h>
#include <kforge/version.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kforge_job;

/* /etc/os-release of the target root, as the probe sees it; a missing field is "". */
struct kforge_os_release {
	const char *id;		/* "ubuntu" */
	const char *id_like;	/* "debian" (space-separated) */
	const char *version_id; /* "24.04" */
	const char *name;	/* "Ubuntu" */
};

struct kforge_ctx;

/*
 * What a probe sees: the target root and its os-release, and (since ABI 1.1) the target
 * kernel, so that a plugin can claim one flavour of a distribution's kernels. Fields are
 * only ever appended; a 1.0 plugin reads the first two.
 */
struct kforge_probe_info {
	const char *root; /* host path of the target root */
	const struct kforge_os_release *os;
	/* since ABI 1.1 */
	const char *release;	 /* the target kernel: "6.1.0-56-rt-amd64" */
	const char *build_dir;	 /* its build dir (host path), NULL when it has none */
	struct kforge_ctx *ctx;	 /* for logging */
	const char *plugin;	 /* the name of the plugin probed */
};

/* Scores a probe returns: the highest wins; 0 means "not mine". */
#define KFORGE_SCORE_NONE 0
#define KFORGE_SCORE_FALLBACK 1	 /* vanilla: anything */
#define KFORGE_SCORE_FAMILY 50	 /* a derivative named in ID_LIKE */
#define KFORGE_SCORE_EXACT 100	 /* the distribution itself (ID) */
/* since ABI 1.1: this very kernel (a vendor's flavour, by its release), above its distribution */
#define KFORGE_SCORE_KERNEL 200

typedef int (*kforge_step_fn)(struct kforge_job *job);

/* Since ABI 1.1: one key of the plugin's own section, [plugin.NAME], of kforge.conf. */
struct kforge_setting {
	const char *key;  /* "flavour", set as `flavour = rt` under [plugin.NAME] */
	const char *def;  /* its value when no file sets it */
	const char *help; /* one line */
};

/* Since ABI 1.1: a key pair for module signing; the paths as the target system sees them. */
struct kforge_sign_key {
	const char *key;  /* the private key: "/var/lib/shim-signed/mok/MOK.priv" */
	const char *cert; /* its certificate, DER or PEM: "/var/lib/shim-signed/mok/MOK.der" */
};

/*
 * Since ABI 1.1: an initramfs generator, as the core's default refresh-initramfs step runs it.
 * In image and command, %k stands for the kernel's release; in command, %i for the image.
 */
struct kforge_initramfs {
	const char *name;	    /* "initramfs-tools": what `kforge info` shows */
	const char *const *detect;  /* files under the root; any one there: it is installed */
	const char *image;	    /* a kernel's image: "/boot/initrd.img-%k" */
	const char *const *lister;  /* lists an image, which is appended: { "lsinitramfs", NULL } */
	const char *const *command; /* regenerates it: { "update-initramfs", "-u", "-k", "%k", NULL } */
};

/*
 * Fields are only ever appended, with a minor bump. The host reads a descriptor only as far
 * as the plugin's minor laid it out: a field a plugin's minor does not know is NULL to the
 * host, and no byte past it is read. A hook returns 0 or a negative errno; it may call the
 * core's kforge_default_<step>() and adjust around it. A NULL hook means the default.
 */
struct kforge_plugin {
	unsigned int abi_major; /* KFORGE_PLUGIN_ABI_MAJOR at build time */
	unsigned int abi_minor; /* KFORGE_PLUGIN_ABI_MINOR at build time */
	const char *name;	/* equal to the file's name without .so */
	const char *description;
	int (*probe)(const struct kforge_probe_info *info); /* required */
	/* Called once the target kernel is known, before any step: the distribution's
	 * facts (install subdir, initramfs generator, compression) go into the job here. */
	kforge_step_fn setup;
	kforge_step_fn locate_source;
	kforge_step_fn derive_version;
	kforge_step_fn configure;
	kforge_step_fn prepare;
	kforge_step_fn compile;
	kforge_step_fn install;
	kforge_step_fn refresh_initramfs;

	/* ---- since ABI 1.1 ---- */
	/*
	 * The keys of [plugin.NAME] in kforge.conf, ending with { NULL }: any other key there is
	 * an error naming file:line, and `kforge config` lists them with the core's settings.
	 */
	const struct kforge_setting *settings;
	/* Checks VALUE of KEY (one of settings) set in kforge.conf: 0, or a negative errno with
	 * the reason in WHY, which kforge prints after file:line. NULL: any value goes. */
	int (*check_setting)(const char *key, const char *value, char *why, size_t whysize);
	/*
	 * The distribution's knowledge, which the core's defaults use (the core itself knows
	 * generic kbuild only). What a plugin leaves NULL, the other plugins that claim the
	 * system may know: they are asked in the order of their scores (vanilla last), so a
	 * vendor's plugin says only what differs from its distribution's.
	 */
	/* Key pairs the distribution's tools make, tried after kforge's own (/var/lib/kforge/mok)
	 * in order, ending with { NULL }; those of the next plugins come after. */
	const struct kforge_sign_key *sign_keys;
	/* Its initramfs generators, ending with { NULL }: the first one installed under the root is
	 * the job's (kernel-install comes first when its install.conf lays out the images). */
	const struct kforge_initramfs *initramfs;
	/* depmod's search order as the distribution's own depmod.d sets it ("updates",
	 * "extramodules", "built-in", NULL), for a root whose depmod.d has no search line; NULL:
	 * depmod's default (updates first). */
	const char *const *(*depmod_search)(const struct kforge_probe_info *info);
	/* What provides the build dir of INFO->release, as the fix of "no build directory":
	 * writes "install linux-headers-6.1.0-56-amd64" into HINT and returns 0; negative when
	 * it does not know (the next plugin, then the core's generic words). */
	int (*build_dir_hint)(const struct kforge_probe_info *info, char *hint, size_t size);
};

/* The one symbol a plugin exports. */
#define KFORGE_PLUGIN_SYMBOL "kforge_plugin_descriptor"

#if defined(__GNUC__)
#define KFORGE_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define KFORGE_PLUGIN_EXPORT
#endif

/* KFORGE_PLUGIN_DEFINE(.name = "acme", .description = "...", .probe = acme_probe, ...); */
#define KFORGE_PLUGIN_DEFINE(...)                                               \
	KFORGE_PLUGIN_EXPORT extern const struct kforge_plugin kforge_plugin_descriptor; \
	const struct kforge_plugin kforge_plugin_descriptor = {                  \
		.abi_major = KFORGE_PLUGIN_ABI_MAJOR,                            \
		.abi_minor = KFORGE_PLUGIN_ABI_MINOR,                            \
		__VA_ARGS__                                                      \
	}

/*
 * Since ABI 1.1: the value of KEY (one of the descriptor's settings) in the plugin's own
 * [plugin.NAME] section: what kforge.conf set, else the setting's default; NULL for a key
 * the plugin did not declare. kforge_plugin_config_get() is for hooks (the job's plugin),
 * kforge_probe_config_get() for probes (the plugin probed).
 */
const char *kforge_plugin_config_get(const struct kforge_job *job, const char *key);
const char *kforge_probe_config_get(const struct kforge_probe_info *info, const char *key);

/* Helpers for probes: is WORD one of ID or ID_LIKE's words? */
int kforge_os_is(const struct kforge_os_release *os, const char *word);
int kforge_os_is_like(const struct kforge_os_release *os, const char *word);

#ifdef __cplusplus
}
#endif
