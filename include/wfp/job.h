/*
 * job.h - the job state machine: the words of DESIGN.md and the moves
 * between them.
 *
 * This file is the one place that converts states to and from words and
 * says which operation may move a job from which state to which. The Lua
 * scripts that change jobs do not repeat the table: scripts.c renders it
 * into every script as the Lua table NEXT, and the scripts refuse any move
 * that NEXT does not list.
 */
#ifndef WFP_JOB_H
#define WFP_JOB_H

#include <stddef.h>

enum wfp_job_state {
	WFP_JOB_POSTED,	   /* on the board, waiting for an executor */
	WFP_JOB_CLAIMED,   /* held by one owner with a token and fence */
	WFP_JOB_COMPLETED, /* finished successfully (final) */
	WFP_JOB_REVERTED,  /* failed; every applied task reverted (final) */
	WFP_JOB_FAILED,	   /* a revert itself failed: needs a person (final) */
	WFP_JOB_DEAD, /* gave up after max attempts, or unreadable (final) */
	WFP_JOB_STATE_COUNT
};

enum wfp_job_op {
	WFP_OP_CLAIM,	 /* an executor takes a posted job */
	WFP_OP_COMPLETE, /* the owner reports success */
	WFP_OP_REVERT,	 /* the owner reports failure, all reverted */
	WFP_OP_FAIL,	 /* the owner reports a failed revert */
	WFP_OP_RETRY,	 /* the owner failed an attempt; attempts remain */
	WFP_OP_EXPIRE,	 /* the owner stopped heartbeating; attempts remain */
	WFP_OP_GIVE_UP,	 /* failed or expired with no attempts left */
	WFP_OP_TRANSFER, /* handed to a named owner */
	WFP_OP_RELEASE,	 /* handed back to the board */
	WFP_OP_REPOST,	 /* an operator puts the job on the board again */
	WFP_OP_CANCEL,	 /* an operator cancels a job nothing ran of yet */
	WFP_OP_COUNT
};

/* The DESIGN.md word for a state ("posted", ...), or "unknown". */
const char *wfp_job_state_name(enum wfp_job_state state);

/* Parses a state word. Returns 0 or -1 on an unknown word. */
int wfp_job_state_parse(const char *word, enum wfp_job_state *out);

/* Returns 1 for the final states (completed, reverted, failed, dead). */
int wfp_job_state_final(enum wfp_job_state state);

/* The name of an operation as the scripts use it ("claim", ...). */
const char *wfp_job_op_name(enum wfp_job_op op);

/*
 * The state op moves a job in `from` to. Returns 0 with *to set, or -1
 * when op is not allowed from that state.
 */
int wfp_job_next(enum wfp_job_state from, enum wfp_job_op op,
		 enum wfp_job_state *to);

/*
 * Writes the table as a Lua chunk "local NEXT = {...}" into out (size n).
 * Returns the length written, or -1 when out is too small.
 */
int wfp_job_table_lua(char *out, size_t n);

#endif
