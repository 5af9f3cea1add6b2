/* Clusters of items at inference time, CLIP-SBR section 3.3: an item the
 * clusters do not know (an id outside 1..n_items, or cluster 0) is joined to
 * the known items of its session and takes the cluster most common among
 * them; when the session has no known item it takes the most frequent
 * cluster (sbr_clusters.frequent).
 *
 * "Most common" counts each distinct known item of the session once. Ties
 * go to the cluster of the known item nearest to the unseen item in the
 * session (the earlier one at equal distance), so the rule is deterministic
 * and local. */
#ifndef SBR_UNSEEN_H
#define SBR_UNSEEN_H

#include <stdint.h>

/* cluster: [n_items + 1] cluster id per known item (0 = unknown).
 * items: [len] the session in click order. out: [len] the cluster of each
 * position (known items keep theirs). Returns the number of positions whose
 * item was unseen. O(len^2), for session-sized inputs. */
int64_t sbr_unseen_assign(const int32_t *cluster, int64_t n_items, int32_t frequent,
                          const int32_t *items, int64_t len, int32_t *out);

#endif
