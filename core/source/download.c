/* download.c: one URL into one file with libcurl's easy API: redirects, resume, timeouts, a progress bar. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>

#include "source/source.h"

/* One try of a download: what the callbacks see. */
struct xfer {
	struct kf_download *d;
	CURL *curl;
	int fd;
	long long offset;  /* bytes the file held when this try started */
	long long written; /* bytes this try wrote */
	bool first;	   /* nothing of this try's body seen yet */
	bool range_refused; /* HTTP 416 to our Range: the body is an error page, dropped */
	int werr;	   /* errno of a failed write */
	/* [sources] timeout: when the byte count last moved, once connected */
	long long seen;
	double quiet_since;
	bool stalled;
	/* the bar */
	double last;
	long long drawn; /* the byte count last drawn */
	bool bar_shown;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb;
	if (x->first) {
		x->first = false;
		long code = 0;
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
		/* libcurl lets a 416 to a resume through as no error: its body is not the file */
		if (x->offset > 0 && code == 416)
			x->range_refused = true;
		/* a 200 to a Range (libcurl refuses it itself, but a proxy may differ): start over */
		if (x->offset > 0 && code == 200) {
			if (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0) {
				x->werr = errno;
				return 0;
			}
			x->offset = 0;
		}
	}
	if (x->range_refused)
		return n;
	for (size_t done = 0; done < n;) {
		ssize_t w = write(x->fd, ptr + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			x->werr = errno;
			return 0;
		}
		done += (size_t)w;
	}
	x->written += (long long)n;
	return n;
}

static void draw_bar(struct xfer *x, long long now, long long total, bool final)
{
	char a[32], b[32], name[48];
	kf_human_size(now > 0 ? (unsigned long long)now : 0, a, sizeof(a));
	/* the name comes from a recipe: nothing of it reaches the terminal as a control sequence */
	snprintf(name, sizeof(name), "%s", x->d->label ? x->d->label : "");
	for (char *c = name; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (total > 0) {
		int width = 24;
		int fill = (int)(now >= total ? width : (double)now / (double)total * width);
		char bar[32];
		for (int i = 0; i < width; i++)
			bar[i] = (char)(i < fill ? '#' : '.');
		bar[width] = '\0';
		kf_human_size((unsigned long long)total, b, sizeof(b));
		fprintf(stderr, "\r%-30.30s [%s] %3d%% %s / %s\033[K", name, bar, (int)(now * 100 / total), a, b);
	} else {
		fprintf(stderr, "\r%-30.30s %s\033[K", name, a);
	}
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
	x->bar_shown = true;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = userdata;
	double now = now_s();
	if (x->d->timeout) {
		/*
		 * No byte for that long, counted from the connection on (connect_timeout is the
		 * connect's): libcurl's low-speed check averages over several seconds, so a stall
		 * after a few bytes would go unnoticed longer than the setting says.
		 */
		curl_off_t connected = 0;
		curl_easy_getinfo(x->curl, CURLINFO_CONNECT_TIME_T, &connected);
		if (!connected || (long long)dlnow != x->seen) {
			x->seen = (long long)dlnow;
			x->quiet_since = now;
		} else if (now - x->quiet_since >= (double)x->d->timeout) {
			x->stalled = true;
			return 1;
		}
	}
	if (!x->d->progress || (dlnow == 0 && !x->bar_shown))
		return 0;
	/* at most five times a second, and the end at once */
	if (x->bar_shown && ((long long)dlnow == x->drawn || (now - x->last < 0.2 && dlnow != dltotal)))
		return 0;
	x->last = now;
	x->drawn = (long long)dlnow;
	/* on a resume libcurl counts from the offset on */
	draw_bar(x, x->offset + (long long)dlnow, dltotal > 0 ? x->offset + (long long)dltotal : 0, false);
	return 0;
}

static const char *http_reason(long code)
{
	switch (code) {
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not found";
	case 410: return "gone";
	case 429: return "too many requests";
	case 500: return "internal server error";
	case 502: return "bad gateway";
	case 503: return "service unavailable";
	case 504: return "gateway timeout";
	default: return NULL;
	}
}

/* Maps a try's libcurl result to -errno and words. */
static int failure(struct xfer *x, CURLcode cc, const char *errbuf, char *why, size_t whysize)
{
	struct kf_download *d = x->d;
	const char *msg = errbuf[0] ? errbuf : curl_easy_strerror(cc);
	curl_off_t connect_us = 0;
	switch (cc) {
	case CURLE_HTTP_RETURNED_ERROR: {
		long code = 0;
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
		d->status = code;
		const char *reason = http_reason(code);
		snprintf(why, whysize, "the server answered HTTP %ld%s%s", code, reason ? " " : "", reason ? reason : "");
		return code == 404 || code == 410 ? -ENOENT : code == 401 || code == 403 ? -EACCES : -EPROTO;
	}
	case CURLE_ABORTED_BY_CALLBACK:
		if (!x->stalled)
			break;
		snprintf(why, whysize, "timed out: no data for %u s ([sources] timeout = %u) after %lld bytes", d->timeout,
			 d->timeout, x->offset + x->written);
		return -ETIMEDOUT;
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(x->curl, CURLINFO_CONNECT_TIME_T, &connect_us);
		if (connect_us > 0 || x->written > 0)
			snprintf(why, whysize, "timed out: no data for %u s ([sources] timeout = %u) after %lld bytes (libcurl: %s)",
				 d->timeout, d->timeout, x->offset + x->written, msg);
		else
			snprintf(why, whysize, "timed out connecting ([sources] connect_timeout = %u) (libcurl: %s)",
				 d->connect_timeout, msg);
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		snprintf(why, whysize, "cannot connect to the server (libcurl: %s)", msg);
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		snprintf(why, whysize, "cannot resolve the host name (libcurl: %s)", msg);
		return -EHOSTUNREACH;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		snprintf(why, whysize, "the connection dropped after %lld bytes (libcurl: %s)", x->offset + x->written, msg);
		return -EPIPE;
	case CURLE_WRITE_ERROR:
		if (x->werr) {
			snprintf(why, whysize, "cannot write %s: %s", d->partial, strerror(x->werr));
			return -x->werr;
		}
		break;
	case CURLE_FILE_COULDNT_READ_FILE:
		snprintf(why, whysize, "no such file (libcurl: %s)", msg);
		return -ENOENT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(why, whysize, "kforge fetches http, https and file URLs only (libcurl: %s)", msg);
		return -EPROTONOSUPPORT;
	case CURLE_OUT_OF_MEMORY:
		snprintf(why, whysize, "out of memory");
		return -ENOMEM;
	default:
		break;
	}
	snprintf(why, whysize, "libcurl: %s", msg);
	return -EIO;
}

static bool curl_ready;

/* One request from X->offset on. 0 when the body is complete; 1: start over from byte 0; or -errno. */
static int one_try(struct kforge_ctx *ctx, struct xfer *x, char *why, size_t whysize)
{
	struct kf_download *d = x->d;
	if (ftruncate(x->fd, x->offset) < 0 || lseek(x->fd, x->offset, SEEK_SET) < 0) {
		snprintf(why, whysize, "cannot write %s: %s", d->partial, strerror(errno));
		return -errno;
	}
	CURL *curl = curl_easy_init();
	if (!curl) {
		snprintf(why, whysize, "libcurl cannot start a transfer (out of memory?)");
		return -ENOMEM;
	}
	char errbuf[CURL_ERROR_SIZE] = "";
	x->curl = curl;
	x->first = true;
	x->written = 0;
	x->range_refused = false;
	x->werr = 0;
	x->seen = 0;
	x->quiet_since = now_s();
	x->stalled = false;
	curl_easy_setopt(curl, CURLOPT_URL, d->url);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE));
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	/* the bytes as the server keeps them: a .tar.gz served with Content-Encoding gzip stays one */
	curl_easy_setopt(curl, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "kforge/" PACKAGE_VERSION);
	if (d->connect_timeout)
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)d->connect_timeout);
	if (d->timeout) {
		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long)d->timeout);
	}
	if (x->offset > 0)
		curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)x->offset);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, x);
	if (d->progress || d->timeout) {
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA, x);
	}
	kf_dbg(ctx, "fetching %s%s", d->url, x->offset ? " (resuming)" : "");
	CURLcode cc = curl_easy_perform(curl);
	int r = 0;
	if (cc == CURLE_OK && x->range_refused) {
		kf_info(ctx, "%s: the server refused to resume at byte %lld: fetching it from the start", d->url, x->offset);
		r = 1;
	} else if (cc == CURLE_RANGE_ERROR || cc == CURLE_BAD_DOWNLOAD_RESUME) {
		kf_info(ctx, "%s: the server cannot resume at byte %lld (%s): fetching it from the start", d->url, x->offset,
			errbuf[0] ? errbuf : curl_easy_strerror(cc));
		r = 1;
	} else if (cc == CURLE_HTTP_RETURNED_ERROR && x->offset > 0 &&
		   curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &d->status) == CURLE_OK && d->status == 416) {
		/* what is kept is as long as the file or longer: not a part of it */
		kf_info(ctx, "%s: the server has nothing past byte %lld (HTTP 416): fetching it from the start", d->url,
			x->offset);
		r = 1;
	} else if (cc != CURLE_OK) {
		r = failure(x, cc, errbuf, why, whysize);
	} else {
		long code = 0;
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
		d->status = code;
	}
	curl_easy_cleanup(curl);
	x->curl = NULL;
	return r;
}

int kf_download(struct kforge_ctx *ctx, struct kf_download *d, char *why, size_t whysize)
{
	char dummy[8];
	if (!why) {
		why = dummy;
		whysize = sizeof(dummy);
	}
	why[0] = '\0';
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(why, whysize, "libcurl cannot be initialised");
			return -EIO;
		}
		curl_ready = true;
	}
	/* O_NONBLOCK: a FIFO put there would block the open; never a link */
	_cleanup_close_ int fd = open(d->partial, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		snprintf(why, whysize, "cannot write %s: %s", d->partial, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysize, "%s is not a regular file", d->partial);
		return -EINVAL;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		snprintf(why, whysize, "cannot write %s: %s", d->partial, strerror(errno));
		return -errno;
	}
	struct xfer x = { .d = d, .fd = fd, .offset = st.st_size };
	d->resumed_from = x.offset;
	d->status = 0;
	if (x.offset > 0)
		kf_info(ctx, "resuming %s at byte %lld (kept from an earlier try)", d->label ? d->label : d->url, x.offset);
	double t0 = now_s();
	bool restarted = false;
	int r;
	for (unsigned int tries = 1;; tries++) {
		r = one_try(ctx, &x, why, whysize);
		if (r == 1 && !restarted) {
			restarted = true;
			x.offset = 0;
			d->resumed_from = 0;
			continue;
		}
		if (r == 1) {
			snprintf(why, whysize, "the server refused to send the file from its start either");
			r = -EPROTO;
		}
		/* a connection that dropped after some data: resumed at once, twice at most */
		if (r == -EPIPE && x.written > 0 && tries < 3) {
			kf_info(ctx, "%s: %s: resuming", d->label ? d->label : d->url, why);
			if (d->log)
				kf_runner_log(d->log, "fetch %s: %s: resuming\n", d->url, why);
			x.offset += x.written;
			if (!d->resumed_from)
				d->resumed_from = x.offset;
			continue;
		}
		break;
	}
	struct stat end;
	d->bytes = fstat(fd, &end) == 0 ? (long long)end.st_size : x.offset + x.written;
	if (x.bar_shown)
		draw_bar(&x, d->bytes, r == 0 ? d->bytes : 0, true);
	double secs = now_s() - t0;
	if (d->log) {
		if (r == 0)
			kf_runner_log(d->log, "fetched %s: %lld bytes in %.1f s%s\n", d->url, d->bytes, secs,
				      d->resumed_from ? " (resumed)" : "");
		else
			kf_runner_log(d->log, "fetch %s failed after %.1f s: %s\n", d->url, secs, why);
	}
	return r;
}
