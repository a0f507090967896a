/* spec_yaml: the resolved spec as YAML text, written with libyaml's emitter
 * from the same object as the JSON form (see spec_json.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <yaml.h>

#include "sandboxctl/spec.h"
#include "sandboxctl/util.h"

#include "profile_internal.h"


/* Strings that a YAML reader would take for null, a boolean or a number are
 * quoted, so that every reader sees a string. */
static bool needs_quotes(const char *s)
{
        static const char *const words[] = { "null", "~", "true", "false", "yes", "no",
                                             "on",   "off", "y",  "n" };
        char *end = NULL;

        if (!*s)
                return true;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(words); i++)
                if (strcasecmp(s, words[i]) == 0)
                        return true;
        (void)strtod(s, &end);
        return end && *end == '\0';
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
        return yaml_emitter_emit(e, ev) ? 0 : -EIO;
}

static int emit_scalar(yaml_emitter_t *e, const char *text, bool plain)
{
        yaml_event_t ev;
        yaml_scalar_style_t style = plain ? YAML_PLAIN_SCALAR_STYLE
                                          : needs_quotes(text) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                                               : YAML_ANY_SCALAR_STYLE;
        if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text,
                                          (int)strlen(text), 1, 1, style))
                return -ENOMEM;
        return emit(e, &ev);
}

static int emit_value(yaml_emitter_t *e, json_t *v);

static int emit_object(yaml_emitter_t *e, json_t *o)
{
        yaml_event_t ev;
        const char *key;
        json_t *v;

        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
                return -ENOMEM;
        int r = emit(e, &ev);
        json_object_foreach(o, key, v) {
                if (r >= 0)
                        r = emit_scalar(e, key, false);
                if (r >= 0)
                        r = emit_value(e, v);
        }
        if (r < 0)
                return r;
        yaml_mapping_end_event_initialize(&ev);
        return emit(e, &ev);
}

static int emit_array(yaml_emitter_t *e, json_t *a)
{
        yaml_event_t ev;
        size_t i;
        json_t *v;
        /* empty lists as [] so that they stay visible */
        yaml_sequence_style_t style = json_array_size(a) ? YAML_BLOCK_SEQUENCE_STYLE
                                                         : YAML_FLOW_SEQUENCE_STYLE;

        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, style))
                return -ENOMEM;
        int r = emit(e, &ev);
        json_array_foreach(a, i, v) {
                if (r >= 0)
                        r = emit_value(e, v);
        }
        if (r < 0)
                return r;
        yaml_sequence_end_event_initialize(&ev);
        return emit(e, &ev);
}

static int emit_value(yaml_emitter_t *e, json_t *v)
{
        char buf[32];

        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return emit_object(e, v);
        case JSON_ARRAY:
                return emit_array(e, v);
        case JSON_STRING:
                return emit_scalar(e, json_string_value(v), false);
        case JSON_INTEGER:
                snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return emit_scalar(e, buf, true);
        case JSON_TRUE:
                return emit_scalar(e, "true", true);
        case JSON_FALSE:
                return emit_scalar(e, "false", true);
        case JSON_REAL:
        case JSON_NULL:
        default:
                return -EINVAL;
        }
}

static int emit_document(yaml_emitter_t *e, json_t *root)
{
        yaml_event_t ev;
        int r;

        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || emit(e, &ev) < 0)
                return -EIO;
        if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || emit(e, &ev) < 0)
                return -EIO;
        r = emit_object(e, root);
        if (r < 0)
                return r;
        if (!yaml_document_end_event_initialize(&ev, 1) || emit(e, &ev) < 0)
                return -EIO;
        if (!yaml_stream_end_event_initialize(&ev) || emit(e, &ev) < 0)
                return -EIO;
        return yaml_emitter_flush(e) ? 0 : -EIO;
}

int sbx_spec_to_yaml(const struct sbx_spec *spec, char **ret_yaml, sbx_error **err)
{
        __attribute__((cleanup(json_decrefp))) json_t *root = NULL;
        sbx_autofree char *text = NULL;
        size_t len = 0;
        yaml_emitter_t e;

        int r = sbx_spec_to_json_object(spec, &root, err);
        if (r < 0)
                return r;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return sbx_error_errno(err, errno, "write spec as YAML");
        if (!yaml_emitter_initialize(&e)) {
                fclose(f);
                return sbx_error_errno(err, ENOMEM, "write spec as YAML");
        }
        yaml_emitter_set_output_file(&e, f);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_width(&e, -1);
        r = emit_document(&e, root);
        const char *problem = e.problem;
        yaml_emitter_delete(&e);
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r < 0)
                return sbx_error_set(err, -r, "write spec as YAML: %s",
                                     problem ? problem : strerror(-r));
        *ret_yaml = sbx_steal_ptr(text);
        return 0;
}
