/* Tests of the debounce state machine, with time injected: bursts, quiet
 * windows, changes during a rebuild, and wrong inputs. */
#include <criterion/criterion.h>
#include <errno.h>

#include "sandboxctl/watch.h"

static struct sbx_debounce d;

static void setup(void)
{
        sbx_debounce_init(&d, 100);
}

TestSuite(debounce, .init = setup);

Test(debounce, idle_has_no_deadline)
{
        cr_assert_eq(d.state, SBX_DEBOUNCE_IDLE);
        cr_assert_eq(sbx_debounce_deadline(&d), SBX_WATCH_NEVER);
        cr_assert(!sbx_debounce_poll(&d, 1000000));
}

Test(debounce, one_change_fires_once_after_the_window)
{
        sbx_debounce_change(&d, 1000);
        cr_assert_eq(d.state, SBX_DEBOUNCE_PENDING);
        cr_assert_eq(sbx_debounce_deadline(&d), 1100);
        cr_assert(!sbx_debounce_poll(&d, 1099));
        cr_assert(sbx_debounce_poll(&d, 1100));
        cr_assert(!sbx_debounce_poll(&d, 1101));
        cr_assert_eq(d.state, SBX_DEBOUNCE_IDLE);
}

Test(debounce, a_burst_is_one_batch)
{
        int fired = 0;
        for (uint64_t t = 0; t < 50 * 20; t += 20) { /* 50 changes, 20 ms apart */
                sbx_debounce_change(&d, t);
                fired += sbx_debounce_poll(&d, t);
        }
        cr_assert_eq(fired, 0);
        cr_assert_eq(sbx_debounce_deadline(&d), 980 + 100);
        for (uint64_t t = 980; t <= 2000; t += 10)
                fired += sbx_debounce_poll(&d, t);
        cr_assert_eq(fired, 1);
}

Test(debounce, changes_further_apart_than_the_window_are_two_batches)
{
        sbx_debounce_change(&d, 0);
        cr_assert(sbx_debounce_poll(&d, 100));
        sbx_debounce_change(&d, 250);
        cr_assert(!sbx_debounce_poll(&d, 300));
        cr_assert(sbx_debounce_poll(&d, 350));
}

Test(debounce, nothing_fires_during_a_rebuild_and_changes_queue_one_batch)
{
        sbx_debounce_change(&d, 0);
        cr_assert(sbx_debounce_poll(&d, 100));
        cr_assert_eq(sbx_debounce_rebuild_started(&d, NULL), 0);
        cr_assert_eq(d.state, SBX_DEBOUNCE_BUILDING);
        for (uint64_t t = 200; t < 5000; t += 7)
                sbx_debounce_change(&d, t);
        cr_assert_eq(d.state, SBX_DEBOUNCE_QUEUED);
        cr_assert_eq(sbx_debounce_deadline(&d), SBX_WATCH_NEVER);
        cr_assert(!sbx_debounce_poll(&d, 100000));
        cr_assert_eq(sbx_debounce_rebuild_finished(&d, 100000, NULL), 0);
        cr_assert_eq(d.state, SBX_DEBOUNCE_PENDING);
        /* its window has long passed: due at once, exactly once */
        cr_assert(sbx_debounce_poll(&d, 100000));
        cr_assert(!sbx_debounce_poll(&d, 100001));
        cr_assert_eq(d.state, SBX_DEBOUNCE_IDLE);
}

Test(debounce, queued_batch_waits_for_its_window)
{
        sbx_debounce_change(&d, 0);
        cr_assert(sbx_debounce_poll(&d, 100));
        cr_assert_eq(sbx_debounce_rebuild_started(&d, NULL), 0);
        sbx_debounce_change(&d, 150);
        cr_assert_eq(sbx_debounce_rebuild_finished(&d, 200, NULL), 0);
        cr_assert_eq(sbx_debounce_deadline(&d), 250);
        cr_assert(!sbx_debounce_poll(&d, 249));
        cr_assert(sbx_debounce_poll(&d, 250));
}

Test(debounce, rebuild_without_changes_returns_to_idle)
{
        sbx_debounce_change(&d, 0);
        cr_assert(sbx_debounce_poll(&d, 100));
        cr_assert_eq(sbx_debounce_rebuild_started(&d, NULL), 0);
        cr_assert_eq(sbx_debounce_rebuild_finished(&d, 5000, NULL), 0);
        cr_assert_eq(d.state, SBX_DEBOUNCE_IDLE);
        cr_assert(!sbx_debounce_poll(&d, 99999));
}

Test(debounce, change_between_batch_and_start_is_queued)
{
        sbx_debounce_change(&d, 0);
        cr_assert(sbx_debounce_poll(&d, 100));
        sbx_debounce_change(&d, 101); /* after the batch was taken */
        cr_assert_eq(sbx_debounce_rebuild_started(&d, NULL), 0);
        cr_assert_eq(d.state, SBX_DEBOUNCE_QUEUED);
        cr_assert_eq(sbx_debounce_rebuild_finished(&d, 150, NULL), 0);
        cr_assert(sbx_debounce_poll(&d, 201));
}

Test(debounce, wrong_inputs_are_errors)
{
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_debounce_rebuild_finished(&d, 0, &e), -EINVAL);
        cr_assert_str_eq(e->message, "rebuild finished: no rebuild is running");
        sbx_error_freep(&e);
        cr_assert_eq(sbx_debounce_rebuild_started(&d, NULL), 0);
        cr_assert_eq(sbx_debounce_rebuild_started(&d, &e), -EALREADY);
        cr_assert_str_eq(e->message, "rebuild started: a rebuild is already running");
        cr_assert_eq(d.state, SBX_DEBOUNCE_BUILDING);
}

Test(debounce, zero_window_fires_at_once)
{
        sbx_debounce_init(&d, 0);
        sbx_debounce_change(&d, 42);
        cr_assert_eq(sbx_debounce_deadline(&d), 42);
        cr_assert(sbx_debounce_poll(&d, 42));
}

Test(debounce, state_names)
{
        cr_assert_str_eq(sbx_debounce_state_name(SBX_DEBOUNCE_IDLE), "idle");
        cr_assert_str_eq(sbx_debounce_state_name(SBX_DEBOUNCE_PENDING), "pending");
        cr_assert_str_eq(sbx_debounce_state_name(SBX_DEBOUNCE_BUILDING), "building");
        cr_assert_str_eq(sbx_debounce_state_name(SBX_DEBOUNCE_QUEUED), "queued");
}
