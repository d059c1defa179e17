/* sign.c: module signing with the build dir's sign-file, the key found where distributions keep one. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/job.h"

/* kforge's own key pair (kforge keygen), tried first; where other tools keep theirs is the plugins' knowledge. */
static const struct kforge_sign_key own_key = { KFORGE_MOK_DIR "/MOK.priv", KFORGE_MOK_DIR "/MOK.der" };

/* Whether the target refuses unsigned modules: MODULE_SIG_FORCE, or lockdown under Secure Boot. */
static const char *enforced_by(struct kforge_job *job)
{
	const char *force = kforge_job_kconfig(job, "CONFIG_MODULE_SIG_FORCE");
	if (force && strcmp(force, "y") == 0)
		return "CONFIG_MODULE_SIG_FORCE=y";
	const char *root = kforge_ctx_root(job->ctx);
	_cleanup_free_ char *lockdown = kforge_path_find(root, "/sys/kernel/security/lockdown");
	_cleanup_free_ char *text = NULL;
	if (lockdown && kf_read_file(lockdown, &text, NULL) == 0 && !strstr(text, "[none]") && strchr(text, '['))
		return "kernel lockdown";
	const char *sb_lock = kforge_job_kconfig(job, "CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT");
	_cleanup_free_ char *sb = kforge_path_find(root, "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c");
	_cleanup_free_ char *var = NULL;
	size_t len = 0;
	/* efivarfs: 4 bytes of attributes, then the value */
	if (sb_lock && strcmp(sb_lock, "y") == 0 && sb && kf_read_file(sb, &var, &len) == 0 && len >= 5 && var[4] == 1)
		return "Secure Boot (CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT)";
	return NULL;
}

static int found_pair(struct kforge_job *job, const char *key, const char *cert)
{
	const char *root = kforge_ctx_root(job->ctx);
	char *k = kforge_path_find(root, key), *c = kforge_path_find(root, cert);
	if (k && c) {
		job->sign_key = k;
		job->sign_cert = c;
		return 1;
	}
	free(k);
	free(c);
	return 0;
}

int kf_sign_prepare(struct kforge_job *job)
{
	if (job->sign_checked)
		return 0;
	job->sign_checked = true;
	const char *sig = kforge_job_kconfig(job, "CONFIG_MODULE_SIG");
	if (!sig || strcmp(sig, "y") != 0)
		return 0;
	if (strcmp(kforge_config_get(job->ctx, "install.sign"), "never") == 0) {
		const char *why = enforced_by(job);
		if (why)
			return kforge_job_fail(job, KFORGE_EXIT_USAGE,
					       "install.sign = never, but %s refuses unsigned modules (%s): set install.sign "
					       "= auto and give it a key (kforge keygen)",
					       job->kernel.release, why);
		kforge_plan_note(job, "not signed: install.sign = never");
		return 0;
	}
	const char *key = kforge_config_get(job->ctx, "install.sign_key");
	const char *cert = kforge_config_get(job->ctx, "install.sign_cert");
	if (key[0] || cert[0]) {
		if (!key[0] || !cert[0] || !found_pair(job, key, cert))
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "install.sign_key (%s) and install.sign_cert (%s) must both name files that "
					       "exist under the root: fix kforge.conf, or create a pair with `kforge keygen`",
					       key[0] ? key : "unset", cert[0] ? cert : "unset");
	} else if (!found_pair(job, own_key.key, own_key.cert)) {
		/* then the distribution's tools' (shim-signed, akmods, DKMS), as its plugins list them */
		for (unsigned int i = 0; i < job->n_chain && !job->sign_key; i++)
			for (const struct kforge_sign_key *k = job->chain[i]->desc.sign_keys; k && k->key && !job->sign_key; k++)
				if (k->cert)
					found_pair(job, k->key, k->cert);
	}
	const char *why = enforced_by(job);
	if (!job->sign_key) {
		if (why)
			return kforge_job_fail(job, KFORGE_EXIT_MISSING,
					       "%s refuses unsigned modules (%s) and no signing key was found. To fix it:\n"
					       "  1. kforge keygen                      (creates %s/MOK.priv and MOK.der)\n"
					       "  2. mokutil --import %s/MOK.der   (choose a one-time password)\n"
					       "  3. reboot and enroll the key in MokManager with that password\n"
					       "  4. run this kforge command again: it finds the key by itself",
					       job->kernel.release, why, KFORGE_MOK_DIR, KFORGE_MOK_DIR);
		kforge_plan_note(job, "not signed: %s has CONFIG_MODULE_SIG but does not enforce it, and no key was found "
				      "(`kforge keygen` makes one); the module loads and taints the kernel (E)",
				 job->kernel.release);
		if (!job->plan)
			kf_info(job->ctx, "not signing: no key found (`kforge keygen` makes one); %s loads unsigned modules "
					  "with the E taint",
				job->kernel.release);
		return 0;
	}
	const char *hash = kforge_job_kconfig(job, "CONFIG_MODULE_SIG_HASH");
	job->sign_hash = strdup(hash && hash[0] ? hash : "sha256");
	_cleanup_free_ char *tool = kforge_path_join(job->kernel.build_dir ? job->kernel.build_dir : "/nonexistent",
						      "scripts/sign-file", NULL);
	if (!job->sign_hash || !tool)
		return -ENOMEM;
	if (access(tool, X_OK) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_MISSING,
				       "%s has no executable scripts/sign-file: reinstall the headers of %s (Debian: "
				       "linux-kbuild), or unset install.sign_key",
				       kforge_job_display_path(job, job->kernel.build_dir), job->kernel.release);
	kforge_plan_note(job, "sign with %s %s %s %s, before compressing", kforge_job_display_path(job, tool),
			 job->sign_hash, kforge_job_display_path(job, job->sign_key),
			 kforge_job_display_path(job, job->sign_cert));
	return 0;
}

int kf_sign_module(struct kforge_job *job, const char *path)
{
	if (!job->sign_key)
		return 0;
	_cleanup_free_ char *tool = kforge_path_join(job->kernel.build_dir, "scripts/sign-file", NULL);
	if (!tool)
		return -ENOMEM;
	int r = kforge_runl(job, NULL, tool, job->sign_hash, job->sign_key, job->sign_cert, path, NULL);
	if (r != 0)
		return kforge_job_fail(job, KFORGE_EXIT_ROLLBACK, "sign-file failed (exit %d) with the key %s: see %s", r,
				       kforge_job_display_path(job, job->sign_key),
				       kf_job_log_name(job));
	return 0;
}

int kforge_job_keygen(struct kforge_job *job, const char *dir, char **key_out, char **cert_out)
{
	const char *root = kforge_ctx_root(job->ctx);
	_cleanup_free_ char *hdir = NULL;
	if (kforge_path_resolve(root, dir ? dir : KFORGE_MOK_DIR, &hdir) < 0)
		return -ENOMEM;
	_cleanup_free_ char *key = kforge_path_join(hdir, "MOK.priv", NULL);
	_cleanup_free_ char *cert = kforge_path_join(hdir, "MOK.der", NULL);
	_cleanup_free_ char *conf = kforge_path_join(hdir, "openssl.cnf", NULL);
	if (!key || !cert || !conf)
		return -ENOMEM;
	if (access(key, F_OK) == 0 || access(cert, F_OK) == 0)
		return kforge_job_fail(job, KFORGE_EXIT_USAGE,
				       "%s already holds a key pair: kforge does not overwrite keys (an enrolled key would "
				       "stop working); move them away first, or give another --dir",
				       hdir);
	int r = kf_mkdir_p(hdir);
	if (r < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot create %s: %s", hdir, strerror(-r));
	/* what the kernel wants of a module signing certificate: code signing, the module signing OID */
	static const char cnf[] = "[ req ]\n"
				  "distinguished_name = req_dn\n"
				  "prompt = no\n"
				  "x509_extensions = ext\n"
				  "[ req_dn ]\n"
				  "CN = kforge module signing key\n"
				  "[ ext ]\n"
				  "basicConstraints = critical,CA:FALSE\n"
				  "keyUsage = digitalSignature\n"
				  "extendedKeyUsage = codeSigning,1.3.6.1.4.1.2312.16.1.2\n"
				  "subjectKeyIdentifier = hash\n"
				  "authorityKeyIdentifier = keyid\n";
	if ((r = kf_write_file(conf, cnf, 0644)) < 0)
		return kforge_job_fail(job, KFORGE_EXIT_FAILURE, "cannot write %s: %s", conf, strerror(-r));
	mode_t old = umask(077);
	r = kforge_runl(job, NULL, "openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes",
			"-days", "36500", "-config", conf, "-keyout", key, "-outform", "DER", "-out", cert, NULL);
	umask(old);
	unlink(conf);
	if (r != 0) {
		unlink(key);
		unlink(cert);
		return kforge_job_fail(job, r == 127 ? KFORGE_EXIT_MISSING : KFORGE_EXIT_FAILURE,
				       "openssl req failed (exit %d): see %s", r, kf_job_log_name(job));
	}
	*key_out = strdup(kforge_job_display_path(job, key));
	*cert_out = strdup(kforge_job_display_path(job, cert));
	return *key_out && *cert_out ? 0 : -ENOMEM;
}
