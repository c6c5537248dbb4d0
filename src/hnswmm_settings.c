/*
 * hnswmm_settings.c
 *		The settings (GUCs) that steer scans, and which of two names wins.
 *
 *		hnswmm defines hnswmm.ef_search, hnswmm.iterative_scan,
 *		hnswmm.max_scan_tuples and hnswmm.rerank.  Clients that came from
 *		pgvector set hnsw.ef_search, hnsw.iterative_scan and
 *		hnsw.max_scan_tuples instead (frameworks do it on every query), and
 *		the server keeps those as placeholders that nobody reads.  A scan
 *		honours them: of the two names for one setting, the one set at the
 *		more specific level wins (SET over a role's or database's setting
 *		over postgresql.conf over the default), and hnswmm's name wins a
 *		tie.  The pgvector names are never defined here, so a backend that
 *		also loads pgvector's library (in another database) does not fail
 *		with "attempt to redefine parameter"; when pgvector has defined
 *		them, the same rule reads its settings.
 */
#include "postgres.h"

#include <limits.h>

#include "hnswmm_compat.h"
#include "hnswmm_settings.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

static int	ef_search_setting = HNSWMM_DEFAULT_EF_SEARCH;
static int	iterative_scan_setting = HNSWMM_ITERATIVE_RELAXED;
static int	max_scan_tuples_setting = HNSWMM_DEFAULT_MAX_SCAN_TUPLES;
int			hnswmm_rerank = 0;

static const struct config_enum_entry iterative_scan_options[] = {
	{"off", HNSWMM_ITERATIVE_OFF, false},
	{"relaxed_order", HNSWMM_ITERATIVE_RELAXED, false},
	{"strict_order", HNSWMM_ITERATIVE_STRICT, false},
	{NULL, 0, false}
};

void
hnswmm_define_settings(void)
{
	DefineCustomIntVariable("hnswmm.ef_search",
							"Beam width of hnswmm index scans.",
							"Larger values find more of the true nearest neighbours and take longer.",
							&ef_search_setting, HNSWMM_DEFAULT_EF_SEARCH, 1, HNSWMM_MAX_EF_SEARCH,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("hnswmm.iterative_scan",
							 "Whether a scan goes on past ef_search rows while the query asks for more.",
							 "off ends a scan after ef_search rows; relaxed_order goes on, "
							 "returning each further batch in order; strict_order also drops "
							 "rows that would come out of order.",
							 &iterative_scan_setting, HNSWMM_ITERATIVE_RELAXED,
							 iterative_scan_options, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnswmm.rerank",
							"Candidates a scan of a quantized index re-ranks with exact distances.",
							"The scan walks the graph by codes with a beam at least this wide, then "
							"reads the full vectors of this many of its best candidates. 0 means "
							"ef_search for sq8 codes, and for binary codes two to four times "
							"ef_search (more below 512 code bits) but at least 20.",
							&hnswmm_rerank, 0, 0, HNSWMM_MAX_RERANK,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnswmm.max_scan_tuples",
							"Most rows an iterative scan returns.",
							NULL, &max_scan_tuples_setting,
							HNSWMM_DEFAULT_MAX_SCAN_TUPLES, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("hnswmm");
}

/*
 * The server's record of a setting, or NULL where nothing defines or set
 * it.  Before 16 the server's lookup is private; its array of settings is
 * kept sorted by name (case-insensitively), so a binary search finds one.
 */
#if PG_VERSION_NUM >= 160000
static struct config_generic *
setting_record(const char *name)
{
	return find_option(name, false, true, DEBUG1);
}
#else
static int
setting_name_cmp(const void *key, const void *elem)
{
	const struct config_generic *rec = *(struct config_generic *const *) elem;

	return pg_strcasecmp((const char *) key, rec->name);
}

static struct config_generic *
setting_record(const char *name)
{
	struct config_generic **found;

	found = bsearch(name, get_guc_variables(), GetNumConfigOptions(),
					sizeof(struct config_generic *), setting_name_cmp);
	return found ? *found : NULL;
}
#endif

/*
 * The value of pgvector's name for a setting when it should win over
 * hnswmm's (see the top of the file), else NULL.  An empty value is what
 * RESET leaves in a placeholder: not set.
 */
static const char *
pgvector_value_if_wins(const char *ours, const char *theirs)
{
	struct config_generic *own = setting_record(ours);
	struct config_generic *other = setting_record(theirs);
	const char *value;

	if (other == NULL || other->source <= PGC_S_DYNAMIC_DEFAULT ||
		(own != NULL && own->source >= other->source))
		return NULL;
	value = GetConfigOption(theirs, true, false);
	return (value != NULL && value[0] != '\0') ? value : NULL;
}

/*
 * A placeholder holds any text; a scan checks it as the setting would,
 * and says which name the bad value came from.
 */
HNSWMM_NORETURN static void
report_bad_value(const char *name, const char *value, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for parameter \"%s\": \"%s\"", name, value),
			 errhint("%s", hint)));
}

static int
resolve_int(const char *ours, const char *theirs, int own_value,
			int min, int max)
{
	const char *value = pgvector_value_if_wins(ours, theirs);
	int			result;

	if (value == NULL)
		return own_value;
	if (!parse_int(value, &result, 0, NULL) || result < min || result > max)
		report_bad_value(theirs, value,
						 psprintf("hnswmm reads \"%s\" in place of \"%s\"; it takes a whole number from %d to %d.",
								  theirs, ours, min, max));
	return result;
}

static int
resolve_iterative_scan(void)
{
	const char *value = pgvector_value_if_wins("hnswmm.iterative_scan",
											   "hnsw.iterative_scan");
	const struct config_enum_entry *e;

	if (value == NULL)
		return iterative_scan_setting;
	for (e = iterative_scan_options; e->name != NULL; e++)
		if (pg_strcasecmp(value, e->name) == 0)
			return e->val;
	report_bad_value("hnsw.iterative_scan", value,
					 "hnswmm reads \"hnsw.iterative_scan\" in place of \"hnswmm.iterative_scan\"; "
					 "it takes off, relaxed_order or strict_order.");
}

/* The settings a scan starting now obeys */
HnswmmScanSettings
hnswmm_scan_settings(void)
{
	HnswmmScanSettings s;

	s.ef_search = resolve_int("hnswmm.ef_search", "hnsw.ef_search",
							  ef_search_setting, 1, HNSWMM_MAX_EF_SEARCH);
	s.iterative_scan = resolve_iterative_scan();
	s.max_scan_tuples = resolve_int("hnswmm.max_scan_tuples",
									"hnsw.max_scan_tuples",
									max_scan_tuples_setting, 1, INT_MAX);
	return s;
}
