/* kforge.c: the kforge command: one binary, a table of subcommands over libkforge. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kforge/kforge.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct opts {
	const char *root, *kernel, *plugin, *source, *strategy, *install_mod_path, *install_dir;
	const char *changes[64];
	unsigned int n_changes;
	const char *extra_symbols[16];
	unsigned int n_extra;
	bool initramfs;
	const char *jobs;
	int verbose, quiet;
	bool json, help, dry_run, no_wait, force;
	const char *dir;
	const char *args[8];
	unsigned int n_args;
};

struct command {
	const char *name;
	int (*fn)(struct kforge_ctx *ctx, struct opts *o);
	const char *usage;
	const char *help;
	bool json;
};

static bool use_color;

static void log_cli(void *data, int priority, const char *file, int line, const char *fn, const char *format,
		    va_list args)
{
	const char *label = priority <= LOG_ERR ? "error: " : priority == LOG_WARNING ? "warning: " : "";
	const char *on = "", *off = "";
	if (use_color && priority <= LOG_WARNING) {
		on = priority <= LOG_ERR ? "\033[1;31m" : "\033[1;33m";
		off = "\033[0m";
	}
	fprintf(stderr, "kforge: %s%s%s", on, label, off);
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
}

/* JSON output: strings escaped, nothing else needed. */
static void json_str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void json_kv(const char *key, const char *value, bool comma)
{
	json_str(key);
	fputs(": ", stdout);
	json_str(value);
	if (comma)
		fputs(", ", stdout);
}

static int exit_for(int err)
{
	return err == -ENOMEM ? KFORGE_EXIT_FAILURE : err == -EINVAL ? KFORGE_EXIT_USAGE : KFORGE_EXIT_FAILURE;
}

/* Loads plugins and selects one; returns an exit code. */
static int setup_plugins(struct kforge_ctx *ctx, const struct opts *o)
{
	int r = kforge_plugins_load(ctx);
	if (r < 0)
		return KFORGE_EXIT_MISSING;
	r = kforge_plugins_select(ctx, o->plugin);
	if (r == -ENOENT)
		return o->plugin ? KFORGE_EXIT_USAGE : KFORGE_EXIT_MISSING;
	return r < 0 ? KFORGE_EXIT_FAILURE : 0;
}

static int make_job_for(struct kforge_ctx *ctx, const struct opts *o, const char *module, bool plan, bool lifecycle,
			struct kforge_job **job)
{
	int code = setup_plugins(ctx, o);
	if (code)
		return code;
	enum kforge_strategy s = KFORGE_STRATEGY_AUTO;
	if (o->strategy) {
		if (strcmp(o->strategy, "headers") == 0)
			s = KFORGE_STRATEGY_HEADERS;
		else if (strcmp(o->strategy, "full") == 0)
			s = KFORGE_STRATEGY_FULL;
		else if (strcmp(o->strategy, "auto") != 0) {
			kforge_err(ctx, "--strategy %s: use headers, full or auto", o->strategy);
			return KFORGE_EXIT_USAGE;
		}
	}
	const char *changes[65], *extra[17];
	for (unsigned int i = 0; i < o->n_changes; i++)
		changes[i] = o->changes[i];
	changes[o->n_changes] = NULL;
	for (unsigned int i = 0; i < o->n_extra; i++)
		extra[i] = o->extra_symbols[i];
	extra[o->n_extra] = NULL;
	struct kforge_job_options jo = {
		.kernel = o->kernel,
		.module = module,
		.source = o->source,
		.config_changes = changes,
		.strategy = s,
		.plan = plan,
		.install_mod_path = o->install_mod_path,
		.install_dir = o->install_dir,
		.extra_symbols = extra,
		.initramfs = o->initramfs,
		.no_wait = o->no_wait,
		.lifecycle = lifecycle,
	};
	enum kforge_exit ec;
	int r = kforge_job_new(ctx, &jo, job, &ec);
	if (r < 0)
		return ec ? (int)ec : exit_for(r);
	return 0;
}

static int make_job(struct kforge_ctx *ctx, const struct opts *o, const char *module, bool plan,
		    struct kforge_job **job)
{
	return make_job_for(ctx, o, module, plan, false, job);
}

/* The job's exit code after a failed call, never 0. */
static int job_code(struct kforge_job *job)
{
	int code = (int)kforge_job_exit_code(job);
	return code ? code : KFORGE_EXIT_FAILURE;
}

static int need_args(struct kforge_ctx *ctx, const struct opts *o, unsigned int n, const char *what)
{
	if (o->n_args == n)
		return 0;
	kforge_err(ctx, "%s (see kforge --help)", o->n_args < n ? what : "too many arguments");
	return KFORGE_EXIT_USAGE;
}

static int cmd_info(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	struct kforge_job *job = NULL;
	if (code || (code = make_job(ctx, o, NULL, true, &job)))
		return code;
	int r = kforge_job_run(job, KFORGE_STEP_LOCATE_SOURCE, KFORGE_STEP_LOCATE_SOURCE - 1);
	if (r < 0) {
		code = kforge_job_exit_code(job);
		kforge_job_unref(job);
		return code ? code : KFORGE_EXIT_FAILURE;
	}
	const struct kforge_release *rel = kforge_job_release(job);
	char ver[32];
	kforge_release_version_string(rel, ver, sizeof(ver));
	const struct kforge_plugin *p = kforge_plugins_selected(ctx);
	char *moddir = NULL;
	if (asprintf(&moddir, "%s/%s", kforge_job_display_path(job, kforge_job_modules_dir(job)),
		     kforge_job_install_subdir(job)) < 0)
		moddir = NULL;
	const char *mv = kforge_job_modversions(job) ? "true" : "false";
	const struct kforge_os_release *os = kforge_ctx_os_release(ctx);
	if (o->json) {
		fputs("{", stdout);
		json_kv("plugin", p->name, true);
		json_kv("root", kforge_ctx_root(ctx), true);
		json_kv("os", os->id, true);
		fputs("\"kernel\": {", stdout);
		json_kv("release", rel->release, true);
		json_kv("version", ver, true);
		json_kv("extraversion", rel->extraversion, true);
		json_kv("localversion", rel->localversion, true);
		json_kv("override", kforge_release_override_name(rel->override), false);
		fputs("}, ", stdout);
		json_kv("build_dir", kforge_job_display_path(job, kforge_job_build_dir(job)), true);
		json_kv("config", kforge_job_display_path(job, kforge_job_config_file(job)), true);
		printf("\"modversions\": %s, ", mv);
		json_kv("compression", kforge_compression_name(kforge_job_compression(job)), true);
		json_kv("initramfs", kforge_job_initramfs(job), true);
		json_kv("module_dir", moddir, false);
		fputs("}\n", stdout);
	} else {
		printf("plugin:              %s\n", p->name);
		printf("root:                %s\n", kforge_ctx_root(ctx));
		printf("os:                  %s\n", os->id[0] ? os->id : "(no os-release)");
		printf("kernel.release:      %s\n", rel->release);
		printf("kernel.version:      %s\n", ver);
		printf("kernel.extraversion: %s\n", rel->extraversion);
		printf("kernel.localversion: %s\n", rel->localversion);
		printf("kernel.override:     %s\n", kforge_release_override_name(rel->override));
		printf("build_dir:           %s\n", kforge_job_display_path(job, kforge_job_build_dir(job)));
		printf("config:              %s\n", kforge_job_config_file(job)
							    ? kforge_job_display_path(job, kforge_job_config_file(job))
							    : "(none found)");
		printf("modversions:         %s\n", mv);
		printf("compression:         %s\n", kforge_compression_name(kforge_job_compression(job)));
		printf("initramfs:           %s\n", kforge_job_initramfs(job));
		printf("module_dir:          %s\n", moddir ? moddir : "?");
	}
	free(moddir);
	kforge_job_unref(job);
	return 0;
}

static int cmd_plugins(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	if (code)
		return code;
	if (kforge_plugins_load(ctx) < 0)
		return KFORGE_EXIT_MISSING;
	bool selected = kforge_plugins_select(ctx, o->plugin) == 0;
	unsigned int n = kforge_plugins_count(ctx);
	if (o->json)
		fputs("[", stdout);
	else
		printf("%-10s %-5s %-5s %-3s %-50s %s\n", "NAME", "ABI", "SCORE", "SEL", "PATH", "DESCRIPTION");
	for (unsigned int i = 0; i < n; i++) {
		const struct kforge_plugin_entry *e = kforge_plugins_get(ctx, i);
		char abi[16];
		snprintf(abi, sizeof(abi), "%u.%u", e->abi_major, e->abi_minor);
		if (o->json) {
			fputs(i ? ", {" : "{", stdout);
			json_kv("name", e->name, true);
			json_kv("path", e->path, true);
			json_kv("description", e->description, true);
			json_kv("abi", abi, true);
			printf("\"score\": %d, \"selected\": %s}", e->score, e->selected ? "true" : "false");
		} else {
			printf("%-10s %-5s %-5d %-3s %-50s %s\n", e->name, abi, e->score, e->selected ? "*" : "",
			       e->path, e->description);
		}
	}
	if (o->json)
		fputs("]\n", stdout);
	return selected ? 0 : KFORGE_EXIT_USAGE;
}

static int cmd_config(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	if (code)
		return code;
	const char *key, *value, *origin, *help;
	if (o->json) {
		fputs("{", stdout);
		json_kv("system_file", kforge_config_system_path(ctx), true);
		json_kv("user_file", kforge_config_user_path(ctx), true);
		fputs("\"values\": [", stdout);
	} else {
		printf("# files read, in order: %s, %s; then the command line\n",
		       kforge_config_system_path(ctx) ? kforge_config_system_path(ctx) : "-",
		       kforge_config_user_path(ctx) ? kforge_config_user_path(ctx) : "-");
	}
	for (unsigned int i = 0; kforge_config_entry(ctx, i, &key, &value, &origin, &help); i++) {
		if (o->json) {
			fputs(i ? ", {" : "{", stdout);
			json_kv("key", key, true);
			json_kv("value", value, true);
			json_kv("origin", origin, false);
			fputs("}", stdout);
		} else {
			printf("%-20s = %-22s # %s\n", key, value, origin);
		}
	}
	if (o->json)
		fputs("]}\n", stdout);
	return 0;
}

static void print_plan(struct kforge_job *job, bool json)
{
	unsigned int n = kforge_job_plan_count(job);
	if (json) {
		fputs("{", stdout);
		json_kv("kernel", kforge_job_kernel(job), true);
		json_kv("module", kforge_job_module_spec(job), true);
		json_kv("strategy", kforge_strategy_name(kforge_job_strategy(job)), true);
		fputs("\"steps\": [", stdout);
		for (int s = 0; s < KFORGE_STEP_COUNT; s++) {
			fputs(s ? ", {" : "{", stdout);
			json_kv("step", kforge_step_name(s), true);
			json_kv("plugin", kforge_job_step_owner(job, s), true);
			fputs("\"actions\": [", stdout);
			bool first = true;
			for (unsigned int i = 0; i < n; i++) {
				const struct kforge_plan_item *it = kforge_job_plan_get(job, i);
				if ((int)it->step != s)
					continue;
				fputs(first ? "{" : ", {", stdout);
				first = false;
				json_kv(it->is_command ? "command" : "note", it->text, it->cwd != NULL);
				if (it->cwd)
					json_kv("cwd", it->cwd, false);
				fputs("}", stdout);
			}
			fputs("]}", stdout);
		}
		fputs("]}\n", stdout);
		return;
	}
	printf("plan for %s on %s (strategy %s)\n", kforge_job_module_spec(job), kforge_job_kernel(job),
	       kforge_strategy_name(kforge_job_strategy(job)));
	for (int s = 0; s < KFORGE_STEP_COUNT; s++) {
		printf("%d. %s [%s]\n", s + 1, kforge_step_name(s), kforge_job_step_owner(job, s));
		for (unsigned int i = 0; i < n; i++) {
			const struct kforge_plan_item *it = kforge_job_plan_get(job, i);
			if ((int)it->step != s)
				continue;
			if (it->is_command && it->cwd)
				printf("   $ (cd %s && %s)\n", it->cwd, it->text);
			else
				printf("   %s %s\n", it->is_command ? "$" : "#", it->text);
		}
	}
}

static int cmd_plan(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 1, "plan needs a module: a name (btrfs), an in-tree dir (fs/btrfs) or a path");
	struct kforge_job *job = NULL;
	if (code || (code = make_job(ctx, o, o->args[0], true, &job)))
		return code;
	int r = kforge_job_run(job, KFORGE_STEP_LOCATE_SOURCE, KFORGE_STEP_COUNT - 1);
	code = r < 0 ? (kforge_job_exit_code(job) ? (int)kforge_job_exit_code(job) : KFORGE_EXIT_FAILURE) : 0;
	if (!code)
		print_plan(job, o->json);
	kforge_job_unref(job);
	return code;
}


static int run_pipeline(struct kforge_ctx *ctx, struct opts *o, const char *command, enum kforge_step last)
{
	int code = need_args(ctx, o, 1, "a module is needed: a name (btrfs), an in-tree dir (fs/btrfs) or a path");
	struct kforge_job *job = NULL;
	if (code || (code = make_job(ctx, o, o->args[0], false, &job)))
		return code;
	int r = kforge_job_open_log(job, command);
	if (r < 0)
		kforge_warn(ctx, "no log file can be written (%s): set log.dir in kforge.conf", strerror(-r));
	else
		kforge_info(ctx, "log: %s", kforge_job_log_path(job));
	r = kforge_job_run(job, KFORGE_STEP_LOCATE_SOURCE, last);
	/* build stops before install: the gate still tells whether the result would load */
	if (r == 0 && last == KFORGE_STEP_COMPILE)
		r = kforge_validate(job);
	code = r < 0 ? (kforge_job_exit_code(job) ? (int)kforge_job_exit_code(job) : KFORGE_EXIT_FAILURE) : 0;
	for (unsigned int i = 0; !code && last == KFORGE_STEP_COMPILE && kforge_job_built_module(job, i); i++)
		printf("%s\n", kforge_job_built_module(job, i));
	if (code && kforge_job_log_path(job))
		kforge_notice(ctx, "log: %s", kforge_job_log_path(job));
	kforge_job_unref(job);
	return code;
}

static int cmd_build(struct kforge_ctx *ctx, struct opts *o)
{
	if (o->dry_run)
		return cmd_plan(ctx, o);
	return run_pipeline(ctx, o, "build", KFORGE_STEP_COMPILE);
}

static int cmd_install(struct kforge_ctx *ctx, struct opts *o)
{
	if (o->dry_run)
		return cmd_plan(ctx, o);
	return run_pipeline(ctx, o, "install", KFORGE_STEP_COUNT - 1);
}

static int cmd_uninstall(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 1, "uninstall needs the name of a module kforge installed (see kforge status)");
	struct kforge_job *job = NULL;
	if (code || (code = make_job_for(ctx, o, NULL, false, true, &job)))
		return code;
	if (kforge_job_open_log(job, "uninstall") < 0)
		kforge_warn(ctx, "no log file can be written: set log.dir in kforge.conf");
	code = kforge_job_uninstall(job, o->args[0], o->force) < 0 ? job_code(job) : 0;
	if (code && kforge_job_log_path(job))
		kforge_notice(ctx, "log: %s", kforge_job_log_path(job));
	kforge_job_unref(job);
	return code;
}

static void json_record(const struct kforge_record *r, const char *state)
{
	fputs("{", stdout);
	json_kv("module", r->module, true);
	json_kv("kernel", r->kernel, true);
	json_kv("state", state, true);
	json_kv("path", r->path, true);
	json_kv("sha256", r->sha256, true);
	json_kv("spec", r->spec, true);
	json_kv("kind", r->kind, true);
	json_kv("source", r->source, true);
	json_kv("strategy", r->strategy, true);
	json_kv("plugin", r->plugin, true);
	json_kv("install_dir", r->install_dir, true);
	json_kv("time", r->time, true);
	fputs("\"set\": [", stdout);
	for (size_t i = 0; r->changes && r->changes[i]; i++) {
		fputs(i ? ", " : "", stdout);
		json_str(r->changes[i]);
	}
	fputs("], \"replaced\": [", stdout);
	for (size_t i = 0; i < r->n_replaced; i++) {
		fputs(i ? ", {" : "{", stdout);
		json_kv("path", r->replaced[i].path, true);
		json_kv("sha256", r->replaced[i].sha256, true);
		json_kv("backup", r->replaced[i].backup, false);
		fputs("}", stdout);
	}
	fputs("]}", stdout);
}

static int cmd_status(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	struct kforge_job *job = NULL;
	if (code || (code = make_job_for(ctx, o, NULL, false, true, &job)))
		return code;
	struct kforge_record **recs = NULL;
	size_t n = 0;
	if (kforge_records_list(job, o->kernel, &recs, &n) < 0) {
		code = job_code(job);
		kforge_job_unref(job);
		return code;
	}
	const char *repaired = kforge_job_repaired(job);
	if (o->json) {
		fputs("{\"repaired\": ", stdout);
		json_str(repaired);
		fputs(", \"modules\": [", stdout);
	} else if (n) {
		printf("%-24s %-20s %-10s %-20s %s\n", "KERNEL", "MODULE", "STATE", "INSTALLED", "PATH");
	} else {
		printf("kforge installed no module%s%s under %s\n", o->kernel ? " for " : "", o->kernel ? o->kernel : "",
		       kforge_job_install_mod_path(job) ? kforge_job_install_mod_path(job) : kforge_ctx_root(ctx));
	}
	for (size_t i = 0; i < n; i++) {
		const char *state = kforge_record_state_name(kforge_record_check(job, recs[i]));
		if (o->json) {
			fputs(i ? ", " : "", stdout);
			json_record(recs[i], state);
			continue;
		}
		printf("%-24s %-20s %-10s %-20s %s\n", recs[i]->kernel, recs[i]->module, state, recs[i]->time,
		       recs[i]->path);
		for (size_t j = 0; j < recs[i]->n_replaced; j++)
			printf("%-24s %-20s %-10s %-20s   replaced %s (kept in %s)\n", "", "", "", "", recs[i]->replaced[j].path,
			       recs[i]->replaced[j].backup);
	}
	if (o->json)
		fputs("]}\n", stdout);
	kforge_records_free(recs, n);
	kforge_job_unref(job);
	return 0;
}

static int cmd_autoinstall(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	struct kforge_job *job = NULL;
	if (code || (code = make_job_for(ctx, o, NULL, false, true, &job)))
		return code;
	struct kforge_job_options base = {
		.install_mod_path = o->install_mod_path,
		.no_wait = o->no_wait,
		.initramfs = o->initramfs,
	};
	int failed = 0;
	if (kforge_autoinstall(job, &base, &failed) < 0)
		code = job_code(job);
	else if (failed)
		code = KFORGE_EXIT_FAILURE;
	kforge_job_unref(job);
	return code;
}

static int cmd_keygen(struct kforge_ctx *ctx, struct opts *o)
{
	int code = need_args(ctx, o, 0, "");
	struct kforge_job *job = NULL;
	if (code || (code = make_job_for(ctx, o, NULL, false, true, &job)))
		return code;
	kforge_job_open_log(job, "keygen");
	char *key = NULL, *cert = NULL;
	if (kforge_job_keygen(job, o->dir, &key, &cert) < 0) {
		code = job_code(job);
	} else {
		printf("created the module signing key %s and its certificate %s\n"
		       "kforge signs modules with them from now on%s. For the kernel to trust them under Secure Boot,\n"
		       "enroll the certificate in the machine owner keys (MOK):\n"
		       "  mokutil --import %s\n"
		       "then reboot and confirm the enrollment in MokManager with the password you chose.\n",
		       key, cert, o->dir ? " (name them in kforge.conf: install.sign_key, install.sign_cert)" : "", cert);
	}
	free(key);
	free(cert);
	kforge_job_unref(job);
	return code;
}

static const struct command commands[] = {
	{ "info", cmd_info, "info [--json]", "what kforge knows of the target kernel and system", true },
	{ "plugins", cmd_plugins, "plugins [--json]", "the plugins found, their scores and the one selected", true },
	{ "config", cmd_config, "config [--json]", "every configuration value and where it came from", true },
	{ "plan", cmd_plan, "plan MODULE|DIR [--json]", "the seven steps and the exact commands, run nothing", true },
	{ "build", cmd_build, "build MODULE|DIR", "locate, configure, prepare and compile; install nothing", false },
	{ "install", cmd_install, "install MODULE|DIR", "build, validate, install, depmod, refresh the initramfs", false },
	{ "uninstall", cmd_uninstall, "uninstall MODULE [--force]", "remove a module kforge installed, put back what it replaced", false },
	{ "status", cmd_status, "status [--json]", "the modules kforge installed: ok, modified, missing or superseded", true },
	{ "autoinstall", cmd_autoinstall, "autoinstall -k KVER", "rebuild every module kforge installed for kernel KVER (the hooks call it)", false },
	{ "keygen", cmd_keygen, "keygen [--dir DIR]", "create a module signing key pair and say how to enroll it", false },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: kforge [OPTIONS] COMMAND [ARGS]\n\n"
		   "Builds a kernel module for an installed kernel and installs it so that the kernel loads it.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-26s %s\n", commands[i].usage, commands[i].help);
	fprintf(f, "\nOptions:\n"
		   "  --root DIR           every path is taken inside DIR (default /)\n"
		   "  -k, --kernel KVER    the target kernel (default: the running one)\n"
		   "  --plugin NAME        use this plugin instead of probing\n"
		   "  --source PATH        the kernel source: a tree or a tarball\n"
		   "  --set CONFIG_X=VAL   change a config option (repeatable; needs the full strategy)\n"
		   "  --strategy S         headers, full or auto (default auto)\n"
		   "  --extra-symbols FILE Module.symvers of another external module this one uses\n"
		   "  --install-mod-path D install under D/lib/modules/KVER (kbuild's INSTALL_MOD_PATH)\n"
		   "  --install-dir DIR    the folder under lib/modules/KVER (default updates)\n"
		   "  --initramfs          refresh the initramfs even when the module is not in it\n"
		   "  --no-wait            fail at once when another kforge holds the lock (default: wait)\n"
		   "  --force              uninstall: remove the module even when it changed since\n"
		   "  --dir DIR            keygen: where the key pair goes (default /var/lib/kforge/mok)\n"
		   "  -j, --jobs N         parallel make jobs\n"
		   "  --json               machine-readable output (info, plugins, config, plan, status)\n"
		   "  --dry-run            build: print the plan (the exact commands) instead of running it\n"
		   "  -v, --verbose        more messages (twice: command output too)\n"
		   "  -q, --quiet          errors only\n"
		   "  -h, --help           this help; `kforge COMMAND --help` for one command\n"
		   "  -V, --version        the version\n"
		   "\nExit codes:\n"
		   "  0 ok; 1 failure; 2 usage (bad command line or configuration);\n"
		   "  3 something missing on the system (build dir, source, tool); 4 build failed;\n"
		   "  5 refused by validation; 6 install failed and rolled back\n"
		   "\nFiles: %s/kforge/kforge.conf, ~/.config/kforge/kforge.conf; plugins in $KFORGE_PLUGIN_PATH,\n"
		   "%s/kforge/plugins.d, %s. See kforge(1).\n",
		SYSCONFDIR, SYSCONFDIR, PLUGINDIR);
}

static void command_usage(const struct command *c)
{
	static const struct {
		const char *name, *text;
	} extra[] = {
		{ "install", "--no-wait (fail at once when another kforge holds the lock)" },
		{ "uninstall", "--install-mod-path DIR, --initramfs, --no-wait, --force (remove a module changed since)" },
		{ "status", "--install-mod-path DIR (the records of that tree); without -k every kernel" },
		{ "autoinstall", "--install-mod-path DIR, --no-wait, -j N" },
		{ "keygen", "--dir DIR (default /var/lib/kforge/mok, where kforge looks first)" },
	};
	printf("Usage: kforge %s\n\n%s.\n", c->usage, c->help);
	if (strcmp(c->name, "plan") == 0 || strcmp(c->name, "build") == 0 || strcmp(c->name, "install") == 0)
		printf("\nMODULE is a module name (btrfs), a directory of the kernel source (fs/btrfs),\n"
		       "or the path of an external module's folder (./my-driver, with a Kbuild file or Makefile).\n"
		       "Options: -k KVER, --root DIR, --plugin NAME, --source PATH, --set CONFIG_X=VAL,\n"
		       "--strategy headers|full|auto, -j N, --extra-symbols FILE, --install-mod-path DIR,\n"
		       "--install-dir DIR, --initramfs, --dry-run%s.\n",
		       c->json ? ", --json" : "");
	else
		printf("\nOptions: -k KVER, --root DIR, --plugin NAME%s (see kforge --help).\n", c->json ? ", --json" : "");
	for (size_t i = 0; i < ARRAY_SIZE(extra); i++)
		if (strcmp(c->name, extra[i].name) == 0)
			printf("Also: %s.\n", extra[i].text);
}

/* Appends a repeatable option's value; -1 (said) when there are more than LIST holds. */
static int push_arg(const char **list, unsigned int *n, size_t max, const char *value, const char *option)
{
	if (*n >= max) {
		fprintf(stderr, "kforge: error: more than %zu %s options\n", max, option);
		return -1;
	}
	list[(*n)++] = value;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },     { "kernel", required_argument, NULL, 'k' },
		{ "plugin", required_argument, NULL, 'p' },   { "source", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'S' },      { "strategy", required_argument, NULL, 't' },
		{ "jobs", required_argument, NULL, 'j' },     { "json", no_argument, NULL, 'J' },
		{ "verbose", no_argument, NULL, 'v' },	      { "quiet", no_argument, NULL, 'q' },
		{ "extra-symbols", required_argument, NULL, 'E' }, { "install-mod-path", required_argument, NULL, 'I' },
		{ "install-dir", required_argument, NULL, 'D' }, { "initramfs", no_argument, NULL, 'i' },
		{ "dry-run", no_argument, NULL, 'n' },	      { "no-wait", no_argument, NULL, 'W' },
		{ "force", no_argument, NULL, 'F' },	      { "dir", required_argument, NULL, 'd' },	      { "help", no_argument, NULL, 'h' },	      { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	const char *cmdname = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-k:j:vqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 1:
			if (!cmdname)
				cmdname = optarg;
			else if (o.n_args < ARRAY_SIZE(o.args))
				o.args[o.n_args++] = optarg;
			else {
				fprintf(stderr, "kforge: error: too many arguments\n");
				return KFORGE_EXIT_USAGE;
			}
			break;
		case 'r': o.root = optarg; break;
		case 'k': o.kernel = optarg; break;
		case 'p': o.plugin = optarg; break;
		case 's': o.source = optarg; break;
		case 't': o.strategy = optarg; break;
		case 'j': o.jobs = optarg; break;
		case 'J': o.json = true; break;
		case 'n': o.dry_run = true; break;
		case 'W': o.no_wait = true; break;
		case 'F': o.force = true; break;
		case 'd': o.dir = optarg; break;
		case 'I': o.install_mod_path = optarg; break;
		case 'D': o.install_dir = optarg; break;
		case 'i': o.initramfs = true; break;
		case 'E':
			if (push_arg(o.extra_symbols, &o.n_extra, ARRAY_SIZE(o.extra_symbols), optarg, "--extra-symbols") < 0)
				return KFORGE_EXIT_USAGE;
			break;
		case 'v': o.verbose++; break;
		case 'q': o.quiet++; break;
		case 'h': o.help = true; break;
		case 'V': printf("kforge %s (plugin ABI %d.%d)\n", KFORGE_VERSION, KFORGE_PLUGIN_ABI_MAJOR,
				 KFORGE_PLUGIN_ABI_MINOR);
			return 0;
		case 'S':
			if (push_arg(o.changes, &o.n_changes, ARRAY_SIZE(o.changes), optarg, "--set") < 0)
				return KFORGE_EXIT_USAGE;
			break;
		default:
			if (optopt)
				fprintf(stderr, "kforge: error: option -%c %s (see kforge --help)\n", optopt,
					strchr("kj", optopt) ? "needs a value" : "is unknown");
			else
				fprintf(stderr, "kforge: error: option %s is unknown or needs a value (see kforge --help)\n",
					argv[optind - 1]);
			return KFORGE_EXIT_USAGE;
		}
	}
	if (strcmp(cmdname ? cmdname : "", "help") == 0) {
		cmdname = o.n_args ? o.args[0] : NULL;
		o.help = true;
		o.n_args = 0;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; cmdname && i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, cmdname) == 0)
			cmd = &commands[i];
	if (!cmdname) {
		usage(o.help ? stdout : stderr);
		return o.help ? 0 : KFORGE_EXIT_USAGE;
	}
	if (!cmd) {
		fprintf(stderr, "kforge: error: unknown command \"%s\" (see kforge --help)\n", cmdname);
		return KFORGE_EXIT_USAGE;
	}
	if (o.help) {
		command_usage(cmd);
		return 0;
	}
	if (o.json && !cmd->json) {
		fprintf(stderr, "kforge: error: %s has no --json output\n", cmd->name);
		return KFORGE_EXIT_USAGE;
	}

	struct kforge_ctx *ctx;
	int r = kforge_ctx_new(o.root, &ctx);
	if (r < 0) {
		fprintf(stderr, "kforge: error: %s\n", strerror(-r));
		return KFORGE_EXIT_FAILURE;
	}
	kforge_set_log_fn(ctx, log_cli, NULL);
	int code = KFORGE_EXIT_OK;
	if (kforge_config_load(ctx, NULL, NULL) < 0) {
		code = KFORGE_EXIT_USAGE;
		goto out;
	}
	const char *color = kforge_config_get(ctx, "log.color");
	use_color = !getenv("NO_COLOR") &&
		    (strcmp(color, "always") == 0 || (strcmp(color, "auto") == 0 && isatty(STDERR_FILENO)));
	if (o.root && access(kforge_ctx_root(ctx), F_OK) < 0) {
		kforge_err(ctx, "--root %s: %s", o.root, strerror(errno));
		code = KFORGE_EXIT_USAGE;
		goto out;
	}
	/* options that are also settings: the command line is their last origin */
	const struct {
		const char *value, *key, *origin;
	} settings[] = {
		{ o.jobs, "build.jobs", "command line: -j" },
		{ o.strategy, "build.strategy", "command line: --strategy" },
		{ o.plugin, "plugins.plugin", "command line: --plugin" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		if (settings[i].value && kforge_config_set(ctx, settings[i].key, settings[i].value, settings[i].origin) < 0) {
			code = KFORGE_EXIT_USAGE;
			goto out;
		}
	}
	if (o.verbose || o.quiet) {
		static const char *const lv[] = { "err", "warning", "notice", "info", "debug" };
		int lvl = 3 + o.verbose - 2 * o.quiet;
		lvl = lvl < 0 ? 0 : lvl > 4 ? 4 : lvl;
		kforge_config_set(ctx, "log.level", lv[lvl], o.verbose ? "command line: -v" : "command line: -q");
	}
	code = cmd->fn(ctx, &o);
out:
	kforge_ctx_unref(ctx);
	return code;
}
