/* The standard and next-unseen tasks; see task.h. */
#include "task.h"

#include <string.h>

const char *const sbr_task_names[] = {"standard", "next-unseen", NULL};

const char *sbr_task_name(sbr_task t)
{
    return sbr_task_names[t == SBR_TASK_NEXT_UNSEEN];
}

int sbr_task_is_repeat(const int32_t *prefix, int len, int32_t target)
{
    for (int j = 0; j < len; j++)
        if (prefix[j] == target)
            return 1;
    return 0;
}

int sbr_task_prefix_items(const int32_t *prefix, int len, int64_t n_items, int32_t *out)
{
    int n = 0;
    for (int j = 0; j < len; j++)
        if (prefix[j] >= 1 && prefix[j] <= n_items)
            out[n++] = prefix[j];
    return n;
}

int sbr_task_drops(sbr_task t, int repeat)
{
    return t == SBR_TASK_NEXT_UNSEEN && repeat;
}

int sbr_task_excludes(sbr_task t)
{
    return t == SBR_TASK_NEXT_UNSEEN;
}

int sbr_task_of_file(const sbr_tfile *f, sbr_task *t, sbr_err *e)
{
    const char *v = sbr_tfile_meta(f, "task");
    *t = SBR_TASK_STANDARD;
    if (!v)
        return 0;
    for (int i = 0; sbr_task_names[i]; i++)
        if (strcmp(v, sbr_task_names[i]) == 0) {
            *t = (sbr_task)i;
            return 0;
        }
    return sbr_errf(e, "metadata task = \"%s\": neither standard nor next-unseen", v);
}

void sbr_task_add_to(sbr_task t, sbr_tw *w)
{
    sbr_tw_meta(w, "task", sbr_task_name(t));
}
