/* src/db/pg_binary.c
 * COPY's binary format, for the values whose text the server's own input
 * function would read as one value that can be told here exactly: plain
 * decimal integers, numerics, doubles within Clinger's exact case, ISO
 * dates and timestamps, the words of a boolean, and text. Any other text
 * (an exponent, a time zone, "Infinity", a leading space) is not encoded:
 * the caller sends that row and the rest of its batch as text, and the
 * server reads them.
 * The server decodes the binary form with the column's typmod, as it
 * applies it to text: numeric(p,s) and varchar(n) check the same.
 */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "sluice/pg_internal.h"

/* The header of a binary COPY: the signature, no flags, no extension. */
static const char bin_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

enum pg_bin_kind pg_bin_kind_of(const char *type)
{
	static const struct {
		const char *name;
		size_t len; /* 0: the whole name; else a prefix, a modifier follows */
		enum pg_bin_kind kind;
	} kinds[] = {
		{"text", 0, PG_BIN_TEXT},
		{"character varying", 0, PG_BIN_TEXT},
		{"character varying(", 18, PG_BIN_TEXT},
		{"character(", 10, PG_BIN_TEXT},
		{"boolean", 0, PG_BIN_BOOL},
		{"smallint", 0, PG_BIN_INT2},
		{"integer", 0, PG_BIN_INT4},
		{"bigint", 0, PG_BIN_INT8},
		{"double precision", 0, PG_BIN_FLOAT8},
		{"numeric", 0, PG_BIN_NUMERIC},
		{"numeric(", 8, PG_BIN_NUMERIC},
		{"date", 0, PG_BIN_DATE},
		{"timestamp without time zone", 0, PG_BIN_TIMESTAMP},
	};
	if (!type)
		return PG_BIN_NONE;
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		if (kinds[i].len ? !strncmp(type, kinds[i].name, kinds[i].len) &&
					   type[strlen(type) - 1] == ')' && !strchr(type, '[')
				 : !strcmp(type, kinds[i].name))
			return kinds[i].kind;
	}
	return PG_BIN_NONE;
}

static void put16(char *o, unsigned v)
{
	o[0] = (char)(v >> 8);
	o[1] = (char)v;
}

static void put32(char *o, uint32_t v)
{
	o[0] = (char)(v >> 24);
	o[1] = (char)(v >> 16);
	o[2] = (char)(v >> 8);
	o[3] = (char)v;
}

static void put64(char *o, uint64_t v)
{
	put32(o, (uint32_t)(v >> 32));
	put32(o + 4, (uint32_t)v);
}

static bool digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* The words boolin takes, whole, in any case: 1 true, 0 false, -1 none. */
static int bool_word(const char *s, size_t n)
{
	uint32_t w4;
	if (n == 4 || n == 5) {
		/* "true" and "false", the commonest, in one look each (ORed
		 * with 0x20, only 'A'-'Z' become these lower case letters) */
		memcpy(&w4, s + n - 4, 4);
		w4 |= 0x20202020u;
		if (n == 4)
			return !memcmp(&w4, "true", 4) ? 1 : -1;
		return (s[0] | 0x20) == 'f' && !memcmp(&w4, "alse", 4) ? 0 : -1;
	}
	char w[3];
	if (n == 0 || n > 3)
		return -1;
	for (size_t i = 0; i < n; i++)
		w[i] = (char)(s[i] | 0x20); /* ASCII letters to lower case */
	switch (n) {
	case 1:
		return w[0] == 't' || w[0] == 'y' || s[0] == '1'   ? 1
		       : w[0] == 'f' || w[0] == 'n' || s[0] == '0' ? 0
								   : -1;
	case 2:
		return !memcmp(w, "on", 2) ? 1 : !memcmp(w, "no", 2) ? 0 : -1;
	default:
		return !memcmp(w, "yes", 3) ? 1 : !memcmp(w, "off", 3) ? 0 : -1;
	}
}

/* A plain decimal's parts: its sign, where its digits before and after
 * the point are, and their values (when 19 digits or fewer). */
struct decimal {
	bool neg;
	const char *i0, *f0;
	size_t ni, nf;
	size_t sig; /* the digits from the first that is not 0 */
	uint64_t iv, fv;
};

/* s[0, n) as -?[0-9]+(\.[0-9]+)? into *x, in one pass; false for anything
 * else. */
__attribute__((always_inline)) static inline bool plain_decimal(const char *s, size_t n,
								struct decimal *x)
{
	const char *p = s, *e = s + n, *dot = NULL;
	x->neg = n && s[0] == '-';
	p += x->neg;
	const char *d0 = p;
	uint64_t v = 0, iv = 0; /* past 19 digits they may wrap: unused then */
	size_t sig = 0;
	for (; p < e; p++) {
		unsigned d = (unsigned)((unsigned char)*p - '0');
		if (d < 10) {
			sig += sig || d;
			v = v * 10 + d;
		} else if (*p == '.' && !dot) {
			dot = p;
			iv = v;
			v = 0;
		} else {
			return false;
		}
	}
	if (dot ? dot == d0 || dot + 1 == e : e == d0)
		return false;
	x->i0 = d0;
	x->ni = (size_t)((dot ? dot : e) - d0);
	x->f0 = dot ? dot + 1 : e;
	x->nf = dot ? (size_t)(e - dot - 1) : 0;
	x->iv = dot ? iv : v;
	x->fv = dot ? v : 0;
	x->sig = sig;
	return true;
}

/* The value of the len (1 to 8) digits at d, eight bytes at a time (SWAR,
 * as in simdjson and fast_float); false when one is not a digit. Reads 8
 * bytes from d. */
static inline bool digits8(const char *d, size_t len, uint64_t *v)
{
	uint64_t w;
	memcpy(&w, d, 8);
	if (len < 8) /* the digits at the top, '0's below them */
		w = (w << (8 * (8 - len))) | (0x3030303030303030ULL >> (8 * len));
	if (((w & 0xF0F0F0F0F0F0F0F0ULL) |
	     (((w + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) != 0x3333333333333333ULL)
		return false;
	w -= 0x3030303030303030ULL;
	w = w * 10 + (w >> 8);
	*v = (((w & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
	      (((w >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
	     32;
	return true;
}

/* plain_decimal when 32 bytes can be read from s (a padded batch's value,
 * batch.values_padded): up to 16 digits and a point, eight digits at a
 * time; longer ones by plain_decimal. Its sig is the number of digits
 * (16 at most), which the callers only compare with 16 or more. */
__attribute__((always_inline)) static inline bool plain_decimal_padded(const char *s, size_t n,
								       struct decimal *x)
{
	bool neg = n && s[0] == '-';
	const char *p = s + neg;
	size_t m = n - neg;
	if (m == 0 || m > 16)
		return plain_decimal(s, n, x);
	/* the point: the first '.' byte (the lowest bit of the mask is exact) */
	uint64_t w, t, dots;
	size_t di = 16;
	for (size_t half = 0; half < 16 && di == 16; half += 8) {
		memcpy(&w, p + half, 8);
		t = w ^ 0x2E2E2E2E2E2E2E2EULL;
		dots = (t - 0x0101010101010101ULL) & ~t & 0x8080808080808080ULL;
		if (dots)
			di = half + (size_t)__builtin_ctzll(dots) / 8;
	}
	uint64_t iv, fv = 0, lo;
	if (di >= m) { /* no point */
		if (m <= 8 ? !digits8(p, m, &iv)
			   : !digits8(p, m - 8, &iv) || !digits8(p + m - 8, 8, &lo))
			return false;
		if (m > 8)
			iv = iv * 100000000 + lo;
		di = m;
	} else {
		size_t nf = m - di - 1;
		if (di == 0 || nf == 0)
			return false;
		if (di > 8 || nf > 8)
			return plain_decimal(s, n, x);
		if (!digits8(p, di, &iv) || !digits8(p + di + 1, nf, &fv))
			return false;
	}
	x->neg = neg;
	x->i0 = p;
	x->ni = di;
	x->f0 = di < m ? p + di + 1 : p + m;
	x->nf = di < m ? m - di - 1 : 0;
	x->iv = iv;
	x->fv = fv;
	x->sig = x->ni + x->nf;
	return true;
}

/* plain_decimal, or plain_decimal_padded when padded */
__attribute__((always_inline)) static inline bool decimal_of(const char *s, size_t n,
							     struct decimal *x, bool padded)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return padded ? plain_decimal_padded(s, n, x) : plain_decimal(s, n, x);
#else
	(void)padded; /* digits8 reads its bytes little-endian */
	return plain_decimal(s, n, x);
#endif
}

/* s[0, n) as -?[0-9]+ within a bigint's range: its value in *v */
static bool plain_int(const char *s, size_t n, int64_t *v, bool padded)
{
	struct decimal x;
	if (!decimal_of(s, n, &x, padded) || x.nf)
		return false;
	if (x.sig > 19 || x.iv > (uint64_t)INT64_MAX + x.neg)
		return false; /* 19 digits: x.iv did not wrap */
	*v = x.neg ? (int64_t)(0 - x.iv) : (int64_t)x.iv;
	return true;
}

/* A double the way float8in's strtod reads it, when Clinger's fast path
 * gives it: at most 2^53 as an integer of digits, and a power of ten that
 * a double holds exactly (10^22 at most), so that one IEEE multiplication
 * or division rounds the exact value once, as a correct strtod does. */
static bool exact_double(const char *s, size_t n, double *out, bool padded)
{
#if FLT_EVAL_METHOD != 0 || DBL_MANT_DIG != 53
	(void)s, (void)n, (void)out, (void)padded;
	return false;
#else
	static const double p10[] = {1e0,  1e1,	 1e2,  1e3,  1e4,  1e5,	 1e6,  1e7,
				     1e8,  1e9,	 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	static const uint64_t p10i[] = {1,
					10,
					100,
					1000,
					10000,
					100000,
					1000000,
					10000000,
					100000000,
					1000000000,
					10000000000,
					100000000000,
					1000000000000,
					10000000000000,
					100000000000000,
					1000000000000000};
	struct decimal x;
	if (!decimal_of(s, n, &x, padded) || x.nf > 22)
		return false;
	/* the digits as one integer, leading zeros aside: 16 at most, so
	 * neither part wrapped, and with an integer part the point has 15
	 * digits after it at most */
	size_t nf = x.nf;
	if (x.sig > 16)
		return false;
	uint64_t w = x.iv ? x.iv * p10i[nf] + x.fv : x.fv;
	if (w > (uint64_t)1 << 53)
		return false;
	bool neg = x.neg;
	double d = (double)w / p10[nf];
	*out = neg ? -d : d;
	return true;
#endif
}

/* NUMERIC's binary form of s[0, n) (plain_decimal) into o, which has room
 * for 8 + 2 * (n / 4 + 2) bytes: the digits in base 10000, the weight of
 * the first, the sign, and the scale as written (numeric_in keeps "1.50"'s
 * two places); the length written, 0 when not plain or too long. */
static size_t numeric_bin(const char *s, size_t n, char *o, bool padded)
{
	static const uint64_t p10[] = {1, 10, 100, 1000};
	struct decimal x;
	if (n > 1000 || !decimal_of(s, n, &x, padded))
		return 0;
	bool neg = x.neg;
	const char *i0 = x.i0, *f0 = x.f0;
	size_t ni = x.ni, nf = x.nf;
	while (ni && *i0 == '0') {
		i0++; /* leading zeros: "0.5" has no integer part */
		ni--;
	}
	/* groups of four digits from the point out: the integer part's first
	 * is short when ni is not a multiple of 4, the fraction's last is
	 * padded with zeros */
	uint16_t d[1000 / 4 + 4];
	size_t nd = 0;
	int weight = (int)((ni + 3) / 4) - 1;
	if (ni <= 16 && nf <= 16) {
		/* from the two parts' values, the last group first */
		size_t gi = (ni + 3) / 4, gf = (nf + 3) / 4;
		uint64_t v = x.iv, f = x.fv * p10[gf * 4 - nf];
		nd = gi + gf;
		for (size_t g = nd; g > gi; g--, f /= 10000)
			d[g - 1] = (uint16_t)(f % 10000);
		for (size_t g = gi; g > 0; g--, v /= 10000)
			d[g - 1] = (uint16_t)(v % 10000);
	} else {
		size_t head = ni % 4 ? ni % 4 : 4;
		for (size_t at = 0; at < ni; at += head, head = 4) {
			unsigned v = 0;
			for (size_t k = 0; k < head; k++)
				v = v * 10 + (unsigned)(i0[at + k] - '0');
			d[nd++] = (uint16_t)v;
		}
		size_t whole = nf & ~(size_t)3;
		for (size_t at = 0; at < whole; at += 4)
			d[nd++] = (uint16_t)((unsigned)(f0[at] - '0') * 1000 +
					     (unsigned)(f0[at + 1] - '0') * 100 +
					     (unsigned)(f0[at + 2] - '0') * 10 +
					     (unsigned)(f0[at + 3] - '0'));
		if (whole < nf) {
			unsigned v = 0;
			for (size_t k = whole; k < whole + 4; k++)
				v = v * 10 + (k < nf ? (unsigned)(f0[k] - '0') : 0);
			d[nd++] = (uint16_t)v;
		}
	}
	/* as make_result keeps it: no leading or trailing zero groups, and a
	 * zero positive with weight 0 */
	size_t lead = 0;
	while (lead < nd && d[lead] == 0) {
		lead++;
		weight--;
	}
	while (nd > lead && d[nd - 1] == 0)
		nd--;
	if (nd == lead) {
		weight = 0;
		neg = false;
	}
	put16(o, (unsigned)(nd - lead));
	put16(o + 2, (unsigned)(uint16_t)(int16_t)weight);
	put16(o + 4, neg ? 0x4000 : 0);
	put16(o + 6, (unsigned)nf);
	size_t len = 8;
	for (size_t g = lead; g < nd; g++, len += 2)
		put16(o + len, d[g]);
	return len;
}

/* two digits at s as a number, -1 when either is not a digit */
static int two(const char *s)
{
	unsigned a = (unsigned)(s[0] - '0'), b = (unsigned)(s[1] - '0');
	return a < 10 && b < 10 ? (int)(a * 10 + b) : -1;
}

/* n digits at s as a number; false when one is not a digit */
static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!digit(s[i]))
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* PostgreSQL's date2j: the Julian day of a Gregorian date */
static int64_t date2j(int y, int m, int d)
{
	if (m > 2) {
		m += 1;
		y += 4800;
	} else {
		m += 13;
		y += 4799;
	}
	int64_t century = y / 100;
	int64_t julian = (int64_t)y * 365 - 32167;
	julian += y / 4 - century + century / 4;
	julian += 7834 * m / 256 + d;
	return julian;
}

/* YYYY-MM-DD, a real day of year 1 to 9999: days since 2000-01-01 */
static bool iso_date(const char *s, int64_t *days)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int hi = two(s), lo = two(s + 2), y = hi * 100 + lo, m = two(s + 5), d = two(s + 8);
	if (hi < 0 || lo < 0 || s[4] != '-' || s[7] != '-' || y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return false;
	*days = date2j(y, m, d) - date2j(2000, 1, 1);
	return true;
}

/* YYYY-MM-DD[T ]HH:MM:SS[.f{1,6}], hours 0-23, seconds 0-59: microseconds
 * since 2000-01-01 00:00:00, as timestamp_in counts them (the fraction of
 * six digits or fewer is exact there too) */
static bool iso_timestamp(const char *s, size_t n, int64_t *us)
{
	int64_t days;
	int frac = 0;
	if (n < 19 || n == 20 || n > 26 || !iso_date(s, &days) || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return false;
	int h = two(s + 11), mi = two(s + 14), se = two(s + 17);
	if (h < 0 || mi < 0 || se < 0 || h > 23 || mi > 59 || se > 59)
		return false;
	if (n > 19) {
		if (s[19] != '.')
			return false;
		int nd = (int)n - 20;
		if (!digits(s + 20, nd, &frac))
			return false;
		for (int k = nd; k < 6; k++)
			frac *= 10;
	}
	*us = ((days * 86400 + h * 3600 + mi * 60 + se) * 1000000) + frac;
	return true;
}

/* One value of kind k, not text, into o (which has room for its length
 * word and its text's length and 32 bytes): its length word and bytes;
 * the bytes written, 0 when it is not one this file encodes. */
static size_t put_value(enum pg_bin_kind k, const char *s, size_t n, char *o, bool padded)
{
	int64_t v;
	double d;
	switch (k) {
	case PG_BIN_BOOL:
		if ((v = bool_word(s, n)) < 0)
			return 0;
		put32(o, 1);
		o[4] = (char)v;
		return 5;
	case PG_BIN_INT2:
		if (!plain_int(s, n, &v, padded) || v < INT16_MIN || v > INT16_MAX)
			return 0;
		put32(o, 2);
		put16(o + 4, (unsigned)(uint16_t)v);
		return 6;
	case PG_BIN_INT4:
		if (!plain_int(s, n, &v, padded) || v < INT32_MIN || v > INT32_MAX)
			return 0;
		put32(o, 4);
		put32(o + 4, (uint32_t)v);
		return 8;
	case PG_BIN_INT8:
		if (!plain_int(s, n, &v, padded))
			return 0;
		put32(o, 8);
		put64(o + 4, (uint64_t)v);
		return 12;
	case PG_BIN_FLOAT8: {
		if (!exact_double(s, n, &d, padded))
			return 0;
		uint64_t bits;
		memcpy(&bits, &d, sizeof bits);
		put32(o, 8);
		put64(o + 4, bits);
		return 12;
	}
	case PG_BIN_NUMERIC: {
		size_t len = numeric_bin(s, n, o + 4, padded);
		if (!len)
			return 0;
		put32(o, (uint32_t)len);
		return 4 + len;
	}
	case PG_BIN_DATE:
		if (n != 10 || !iso_date(s, &v))
			return 0;
		put32(o, 4);
		put32(o + 4, (uint32_t)(int32_t)v);
		return 8;
	case PG_BIN_TIMESTAMP:
		if (!iso_timestamp(s, n, &v))
			return 0;
		put32(o, 8);
		put64(o + 4, (uint64_t)v);
		return 12;
	case PG_BIN_TEXT: /* pg_bin_row copies text itself */
	case PG_BIN_NONE:
		break;
	}
	return 0;
}

bool pg_bin_header(struct buf *o)
{
	return buf_append(o, bin_header, sizeof bin_header);
}

bool pg_bin_trailer(struct buf *o)
{
	return buf_append(o, "\377\377", 2);
}

int pg_bin_row(struct buf *o, const enum pg_bin_kind *kinds, const struct cell *row, int ncols,
	       bool padded)
{
	size_t start = o->len;
	if (!buf_reserve(o, 2 + (size_t)ncols * 4))
		return -1;
	char *p = o->data + o->len, *end = o->data + o->cap - 1;
	put16(p, (unsigned)ncols);
	p += 2;
	for (int col = 0; col < ncols; col++) {
		const struct cell *v = &row[col];
		/* room for the value at its worst: a numeric's groups are half
		 * its text's length, the others at most 16 bytes or their text
		 * (rounded up to 32, which a padded text is copied as) */
		size_t need = 4 + (v->ptr ? v->len + 32 : 0) + (size_t)(ncols - col) * 4;
		if ((size_t)(end - p) < need) {
			o->len = (size_t)(p - o->data);
			if (!buf_reserve(o, need)) {
				o->len = start; /* nothing of the row */
				return -1;
			}
			p = o->data + o->len;
			end = o->data + o->cap - 1;
		}
		if (!v->ptr) {
			put32(p, UINT32_MAX); /* -1: NULL */
			p += 4;
			continue;
		}
		enum pg_bin_kind kind = kinds[col];
		size_t k;
		if (cell_is_default(v)) {
			k = 0;
		} else if (kind == PG_BIN_TEXT) {
			/* the commonest, without the switch's jump; a short value
			 * of a padded row as one 32-byte copy, not memcpy's size
			 * classes (the bytes past it are overwritten next) */
			put32(p, (uint32_t)v->len);
			if (padded && v->len <= 32) {
				char t[32];
				memcpy(t, v->ptr, 32);
				memcpy(p + 4, t, 32);
			} else {
				memcpy(p + 4, v->ptr, v->len);
			}
			k = 4 + v->len;
		} else {
			k = put_value(kind, v->ptr, v->len, p, padded);
		}
		if (!k) {
			o->len = start;
			o->data[o->len] = '\0';
			return 0;
		}
		p += k;
	}
	o->len = (size_t)(p - o->data);
	o->data[o->len] = '\0';
	return 1;
}
