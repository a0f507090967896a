/* fuzz_profile: libFuzzer harness for the profile parser. Any input must
 * either parse into a spec or fail with an error, never crash or leak; a spec
 * that parses must print as JSON and YAML, and its JSON form must parse
 * again (the output of `profile show --json` is itself a profile). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandboxctl/profile.h"
#include "sandboxctl/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct sbx_spec *spec)
{
        char *json = NULL, *yaml = NULL;
        if (sbx_spec_to_yaml(spec, &yaml, NULL) < 0)
                __builtin_trap();
        if (sbx_spec_to_json(spec, false, &json, NULL) < 0)
                __builtin_trap();
        struct sbx_spec *again = NULL;
        if (sbx_profile_load_string(json, strlen(json), "round-trip.json", &again, NULL) < 0)
                __builtin_trap();
        sbx_spec_free(again);
        free(json);
        free(yaml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct sbx_spec *spec = NULL;
        sbx_error *err = NULL;
        int r = sbx_profile_load_string((const char *)data, size, "fuzz.yaml", &spec, &err);
        /* the contract: success yields a spec and no error, failure the reverse */
        if ((r >= 0) != (spec != NULL) || (r < 0) != (err != NULL))
                __builtin_trap();
        if (err && (err->code <= 0 || !err->message))
                __builtin_trap();
        if (spec)
                check_round_trip(spec);
        sbx_spec_free(spec);
        sbx_error_free(err);
        return 0;
}
