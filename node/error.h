/*
 * error.h — the one error vocabulary of libcrm.
 *
 * Every fallible function returns 0 on success or a negative crm_error code.
 * The human message lives in a per-thread slot, set once where the failure
 * is detected (with file:line for corruption and protocol violations) and
 * propagated unchanged.  The library never prints or exits.
 */
#ifndef CRM_ERROR_H
#define CRM_ERROR_H

/* Append-only: codes are part of the JSON API and of exit-status mapping. */
typedef enum crm_error {
	CRM_OK = 0,
	CRM_EINVAL = -1,     /* bad user or data input: the caller's fault */
	CRM_ENOTFOUND = -2,  /* a named record, file or key does not exist */
	CRM_EEXISTS = -3,    /* already there (often a safe no-op) */
	CRM_EDB = -4,        /* SQLite failed */
	CRM_EIO = -5,        /* file system or network I/O failed */
	CRM_ECRYPTO = -6,    /* OpenSSL failed */
	CRM_ECORRUPT = -7,   /* stored or received data is malformed */
	CRM_ENOMEM = -8,
	CRM_EUSAGE = -9,     /* wrong command-line use */
	CRM_EVERIFY = -10,   /* signature, hash or chain check failed */
	CRM_ELIMIT = -11,    /* an input exceeds a size limit */
	CRM_EFORK = -12,     /* a node's chain forked */
	CRM_EGIT = -13,      /* libgit2 failed */
	CRM_EDENIED = -14,   /* not allowed for this node's role */
} crm_error;

/* Record an error for this thread and return `code` (so `return CRM_ERR(...)`).
 * The message is formatted like printf and truncated to 1 KiB. */
int crm_error_set(int code, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define CRM_ERR(code, ...) crm_error_set((code), __FILE__, __LINE__, __VA_ARGS__)

/* The last message recorded on this thread, or "" if none. Borrowed. */
const char *crm_error_last(void);
/* Where the last error was recorded ("file.c:123"), or "". Borrowed. */
const char *crm_error_where(void);
/* Forget the last error. */
void crm_error_clear(void);
/* A short name for a code ("EINVAL"). */
const char *crm_error_name(int code);

#endif
