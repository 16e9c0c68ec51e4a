/*
 * fuzz_workflow.c - fuzz target: the workflow parser (common/workflow.c
 * and its JSON reader common/wf_json.c) on any job payload, as a post
 * reaches wfp-jobboard and a claimed job reaches wfp-executor.
 *
 * Checks: wfp_workflow_parse and wfp_workflow_check never crash, leak or
 * read past the payload, and agree; a parsed workflow keeps the rules of
 * wfp/workflow.h (names unique and found, deps and next in range and
 * mirrored, counts within the limits); wfp_json_member_compact works on
 * the same text.
 */
#include "fuzz.h"
#include "wfp/workflow.h"

/* 1 when task b lists a in its deps. */
static int has_dep(const struct wfp_wf_task *b, int a)
{
	for (int k = 0; k < b->ndeps; k++) {
		if (b->deps[k] == a)
			return 1;
	}
	return 0;
}

/* Checks the rules of a parsed workflow. */
static void check_workflow(const struct wfp_workflow *wf)
{
	FUZZ_ASSERT(wf->ntasks >= 0 && wf->ntasks <= WFP_WF_TASKS_MAX);
	FUZZ_ASSERT(wf->ninputs >= 0 && wf->ninputs <= WFP_WF_INPUTS_MAX);
	for (int i = 0; i < wf->ntasks; i++) {
		const struct wfp_wf_task *t = &wf->tasks[i];

		FUZZ_ASSERT(wfp_workflow_find(wf, t->name) == i);
		FUZZ_ASSERT(strlen(t->name) < WFP_TASK_NAME_MAX);
		FUZZ_ASSERT(t->attempts >= 1);
		FUZZ_ASSERT(t->nlocks <= WFP_WF_LOCKS_MAX);
		for (int k = 0; k < t->ndeps; k++)
			FUZZ_ASSERT(t->deps[k] >= 0 &&
				    t->deps[k] < wf->ntasks && t->deps[k] != i);
		for (int k = 0; k < t->nnext; k++) {
			FUZZ_ASSERT(t->next[k] >= 0 && t->next[k] < wf->ntasks);
			FUZZ_ASSERT(has_dep(&wf->tasks[t->next[k]], i));
		}
		if (t->apply.kind == WFP_ACTION_EXEC)
			FUZZ_ASSERT(t->apply.argc >= 1 &&
				    t->apply.argc <= WFP_WF_ARGV_MAX &&
				    t->apply.argv[t->apply.argc] == NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FUZZ_ERR_MAX] = "", err2[FUZZ_ERR_MAX] = "";
	struct wfp_workflow *wf = NULL;
	char *text = fuzz_text(data, size);
	char *compact;
	int rc, rc2;

	if (text == NULL)
		return 0;
	rc = wfp_workflow_parse(text, size, &wf, err, sizeof(err));
	rc2 = wfp_workflow_check(text, size, err2, sizeof(err2));
	FUZZ_ASSERT((rc < 0) == (rc2 < 0));
	if (rc < 0) {
		fuzz_refused(err);
		FUZZ_ASSERT(wf == NULL && strcmp(err, err2) == 0);
	} else if (rc == 0) {
		FUZZ_ASSERT(wf == NULL);
	} else {
		check_workflow(wf);
	}
	wfp_workflow_free(wf);
	err[0] = '\0';
	compact =
	    wfp_json_member_compact(text, size, "inputs", err, sizeof(err));
	if (compact == NULL)
		fuzz_refused(err);
	free(compact);
	free(text);
	return 0;
}
