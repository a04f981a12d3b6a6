/*
 * fuzz_scratch.h — what the fuzz targets that need a real replica share: a
 * temp directory removed at exit, and a fatal error during set-up.
 */
#ifndef CRM_FUZZ_SCRATCH_H
#define CRM_FUZZ_SCRATCH_H

/* Make "$TMPDIR/crm_fuzz_XXXXXX" (removed with everything in it at exit)
 * and return its path; exits on failure. */
const char *fuzz_scratch_dir(void);
/* Print "fuzz: WHAT: <last libcrm error>" and exit(1). */
void fuzz_die(const char *what) __attribute__((noreturn));

#endif
