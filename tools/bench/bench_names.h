/*
 * bench_names.h — realistic synthetic people for the search benchmark:
 * Russian and English first and last names (about 200 of each kind),
 * an e-mail address and a Russian mobile number per person.
 *
 * Person i of a seed is a pure function of (seed, i), so a benchmark can
 * load a million people and later rebuild any one of them to query for it
 * without keeping them in memory.
 */
#ifndef CRM_BENCH_NAMES_H
#define CRM_BENCH_NAMES_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_person {
	char first[64];       /* UTF-8, as a person would type it: "Иван", "Emily" */
	char last[64];        /* female Russian forms agree: "Иванова" */
	char email[256];      /* lower case: "ivan.petrov417@mail.ru" */
	char phone[32];       /* as typed: "+7 916 555-12-34" */
	char digits[16];      /* only the digits: "79165551234" */
} bench_person;

/* Fill *p with person `index` of the stream named by `seed`. */
void bench_person_make(bench_person *p, uint64_t seed, uint64_t index);

/* How many names each list holds (for the report). */
void bench_name_counts(size_t *ru_first, size_t *ru_last, size_t *en_first, size_t *en_last);

/* The first `chars` UTF-8 characters of s into out (cap bytes). */
void bench_utf8_prefix(char *out, size_t cap, const char *s, size_t chars);

#endif
