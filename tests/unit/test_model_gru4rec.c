#include "harness.h"
#include "model_check.h"

TEST(model_gru4rec_gradcheck)
{
    CHECK(model_gradcheck("gru4rec", 0) == 0);
}

TEST(model_gru4rec_clip_gradcheck)
{
    CHECK(model_gradcheck("gru4rec", 1) == 0);
}
