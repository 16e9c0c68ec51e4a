/* job.c - the job state machine (see wfp/job.h). */
#include "wfp/job.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const state_words[WFP_JOB_STATE_COUNT] = {
    "posted", "claimed", "completed", "reverted", "failed", "dead",
};

static const char *const op_words[WFP_OP_COUNT] = {
    "claim",   "complete", "revert",  "fail",	"retry",  "expire",
    "give_up", "transfer", "release", "repost", "cancel",
};

/* One allowed move. */
struct move {
	enum wfp_job_state from;
	enum wfp_job_op op;
	enum wfp_job_state to;
};

static const struct move moves[] = {
    {WFP_JOB_POSTED, WFP_OP_CLAIM, WFP_JOB_CLAIMED},
    {WFP_JOB_POSTED, WFP_OP_TRANSFER, WFP_JOB_CLAIMED},
    {WFP_JOB_POSTED, WFP_OP_CANCEL, WFP_JOB_REVERTED},
    {WFP_JOB_CLAIMED, WFP_OP_COMPLETE, WFP_JOB_COMPLETED},
    {WFP_JOB_CLAIMED, WFP_OP_REVERT, WFP_JOB_REVERTED},
    {WFP_JOB_CLAIMED, WFP_OP_FAIL, WFP_JOB_FAILED},
    {WFP_JOB_CLAIMED, WFP_OP_RETRY, WFP_JOB_POSTED},
    {WFP_JOB_CLAIMED, WFP_OP_EXPIRE, WFP_JOB_POSTED},
    {WFP_JOB_CLAIMED, WFP_OP_GIVE_UP, WFP_JOB_DEAD},
    {WFP_JOB_CLAIMED, WFP_OP_TRANSFER, WFP_JOB_CLAIMED},
    {WFP_JOB_CLAIMED, WFP_OP_RELEASE, WFP_JOB_POSTED},
    {WFP_JOB_CLAIMED, WFP_OP_REPOST, WFP_JOB_POSTED},
    {WFP_JOB_COMPLETED, WFP_OP_REPOST, WFP_JOB_POSTED},
    {WFP_JOB_REVERTED, WFP_OP_REPOST, WFP_JOB_POSTED},
    {WFP_JOB_FAILED, WFP_OP_REPOST, WFP_JOB_POSTED},
    {WFP_JOB_DEAD, WFP_OP_REPOST, WFP_JOB_POSTED},
};
#define NMOVES (sizeof(moves) / sizeof(moves[0]))

const char *wfp_job_state_name(enum wfp_job_state state)
{
	if ((unsigned)state >= WFP_JOB_STATE_COUNT)
		return "unknown";
	return state_words[state];
}

int wfp_job_state_parse(const char *word, enum wfp_job_state *out)
{
	for (int i = 0; i < WFP_JOB_STATE_COUNT; i++) {
		if (strcmp(word, state_words[i]) == 0) {
			*out = (enum wfp_job_state)i;
			return 0;
		}
	}
	return -1;
}

int wfp_job_state_final(enum wfp_job_state state)
{
	return state >= WFP_JOB_COMPLETED && state < WFP_JOB_STATE_COUNT;
}

const char *wfp_job_op_name(enum wfp_job_op op)
{
	if ((unsigned)op >= WFP_OP_COUNT)
		return "unknown";
	return op_words[op];
}

int wfp_job_next(enum wfp_job_state from, enum wfp_job_op op,
		 enum wfp_job_state *to)
{
	for (size_t i = 0; i < NMOVES; i++) {
		if (moves[i].from == from && moves[i].op == op) {
			*to = moves[i].to;
			return 0;
		}
	}
	return -1;
}

/* Appends formatted text at out+*used; returns 0 or -1 when out is full. */
static int append(char *out, size_t n, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(out + *used, n - *used, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= n - *used)
		return -1;
	*used += (size_t)w;
	return 0;
}

int wfp_job_table_lua(char *out, size_t n)
{
	size_t used = 0;

	if (append(out, n, &used, "local NEXT = {") != 0)
		return -1;
	for (int s = 0; s < WFP_JOB_STATE_COUNT; s++) {
		if (append(out, n, &used, "[\"%s\"]={", state_words[s]) != 0)
			return -1;
		for (size_t i = 0; i < NMOVES; i++) {
			if (moves[i].from != (enum wfp_job_state)s)
				continue;
			if (append(out, n, &used, "[\"%s\"]=\"%s\",",
				   op_words[moves[i].op],
				   state_words[moves[i].to]) != 0)
				return -1;
		}
		if (append(out, n, &used, "},") != 0)
			return -1;
	}
	if (append(out, n, &used, "}\n") != 0)
		return -1;
	return (int)used;
}
