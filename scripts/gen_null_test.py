#!/usr/bin/env python3
"""Generates a C program that calls every function of include/gsms.h with NULL for each pointer
parameter (one at a time, the others valid), with every pointer parameter NULL at once, and with
0 / UINT32_MAX / SIZE_MAX for each integer parameter. The list of functions comes from the header,
so a new function is covered as soon as it is declared.

Expectations (checked by the generated program, which also runs under valgrind):
  - a function returning gsms_status answers GSMS_ERR_INVALID_ARGUMENT (with a reason in
    gsms_last_error_message()) when a required pointer is NULL; when the NULL parameter is one the
    contract lets be NULL (OPTIONAL below), or a number is absurd, it answers anything but
    GSMS_ERR_INTERNAL (or an undefined status);
  - a function returning `const char *` never returns NULL;
  - a function returning a borrowed handle (`const T *` with no T_free, e.g. gsms_<x>_result_info)
    returns NULL for a NULL source and non-NULL for a live one, and is never freed; one returning
    an owned handle has its T_free called;
  - out-pointers are left alone (or set to NULL) when the call fails; those the contract fills on
    failure (OUT_ON_FAILURE) are still left alone for invalid arguments;
  - nothing crashes, and valgrind finds no invalid access and no definite leak.

Handles come from HANDLES: builders fresh per case, results (from real failed calls) and operations
(one of each kind) shared. Generation fails (exit 2) when the header declares something this script
cannot call: a parameter type it does not know how to make valid (a handle type not in HANDLES), an exported symbol missing from the header (with --lib),
or an OPTIONAL entry naming a function or parameter that no longer exists. Teach it here.

usage: gen_null_test.py include/gsms.h out.c [--lib target/debug/libgsms.so]
"""

import re
import subprocess
import sys

# Pointer parameters the contract lets be NULL (API.md / the header's doc comments).
OPTIONAL = {
    "gsms_client_create_cluster": {"out"},
    "gsms_client_allocate_cluster": {"out"},
    "gsms_client_create_cluster_async": {"on_done", "user_data", "out_op"},
    "gsms_client_allocate_cluster_async": {"on_progress", "on_done", "user_data", "out_op"},
    "gsms_config_set_token_provider": {"fn_", "user_data"},
    "gsms_config_set_log_callback": {"fn_", "user_data"},
    "gsms_operation_take_result": {"out_result"},
    "gsms_cluster_result_port": {"name", "internal_port", "external_port"},
    # The family (FAMILY.md): blocking calls' `out`, async calls' callbacks and `out_op`, the
    # indexed getters' out-pointers ("each out-pointer may be NULL").
    "gsms_client_create_inline_cluster": {"out"},
    "gsms_client_allocate_inline_cluster": {"out"},
    "gsms_client_create_inline_cluster_async": {"on_done", "user_data", "out_op"},
    "gsms_client_allocate_inline_cluster_async": {"on_progress", "on_done", "user_data", "out_op"},
    "gsms_client_get_ticket_status": {"out"},
    "gsms_client_get_ticket_status_async": {"on_done", "user_data", "out_op"},
    "gsms_client_get_variants": {"out"},
    "gsms_client_get_variants_async": {"on_done", "user_data", "out_op"},
    "gsms_client_get_qos_servers": {"out"},
    "gsms_client_get_qos_servers_async": {"on_done", "user_data", "out_op"},
    "gsms_client_create_session_host": {"out"},
    "gsms_client_allocate_session_host": {"out"},
    "gsms_client_get_allocation_status": {"out"},
    "gsms_client_create_session_host_async": {"on_done", "user_data", "out_op"},
    "gsms_client_allocate_session_host_async": {"on_progress", "on_done", "user_data", "out_op"},
    "gsms_client_get_allocation_status_async": {"on_done", "user_data", "out_op"},
    "gsms_client_measure_qos": {"out"},
    "gsms_client_measure_qos_async": {"on_done", "user_data", "out_op"},
    "gsms_operation_take_cluster_result": {"out_result"},
    "gsms_operation_take_ticket_result": {"out_result"},
    "gsms_operation_take_variants_result": {"out_result"},
    "gsms_operation_take_qos_servers_result": {"out_result"},
    "gsms_operation_take_session_host_result": {"out_result"},
    "gsms_operation_take_qos_result": {"out_result"},
    "gsms_ticket_result_port": {"name", "internal_port", "external_port"},
    "gsms_session_host_result_port": {"name", "internal_port", "external_port"},
    "gsms_variants_result_variant": {"id", "name", "is_publisher", "rank", "schema_id"},
    "gsms_variants_result_schema": {"id", "name", "content"},
    "gsms_variants_result_gsi_set": {"id", "name", "min_players", "max_players", "selection_order", "schema_id"},
    "gsms_variants_result_gsi_set_tag": {"name", "value"},
    "gsms_qos_servers_result_server": {"fqdn", "secure_device_address", "target_location"},
    "gsms_qos_result_region": {"name", "latency_us", "sent", "received"},
}

# Out-pointers the contract writes even when the call fails (a result carrying the error details).
OUT_ON_FAILURE = {
    "gsms_client_create_cluster": {"out"},
    "gsms_client_allocate_cluster": {"out"},
    "gsms_operation_take_result": {"out_result"},
    "gsms_client_create_inline_cluster": {"out"},
    "gsms_client_allocate_inline_cluster": {"out"},
    "gsms_client_get_ticket_status": {"out"},
    "gsms_client_get_variants": {"out"},
    "gsms_client_get_qos_servers": {"out"},
    "gsms_client_create_session_host": {"out"},
    "gsms_client_allocate_session_host": {"out"},
    "gsms_client_get_allocation_status": {"out"},
    "gsms_client_measure_qos": {"out"},
    "gsms_operation_take_cluster_result": {"out_result"},
    "gsms_operation_take_ticket_result": {"out_result"},
    "gsms_operation_take_variants_result": {"out_result"},
    "gsms_operation_take_qos_servers_result": {"out_result"},
    "gsms_operation_take_session_host_result": {"out_result"},
    "gsms_operation_take_qos_result": {"out_result"},
}

# Handle types: C type -> (how a case gets a valid one, how it is released). "fresh:F" makes a new
# one per case with F() and frees it after; "global:G" passes the shared handle G made in main().
HANDLES = {
    "gsms_config": ("fresh:fresh_config", "gsms_config_free"),
    "gsms_cluster_request": ("fresh:fresh_request", "gsms_cluster_request_free"),
    "gsms_inline_cluster_request": ("fresh:fresh_inline_request", "gsms_inline_cluster_request_free"),
    "gsms_session_host_request": ("fresh:fresh_session_host_request", "gsms_session_host_request_free"),
    "gsms_variants_request": ("fresh:fresh_variants_request", "gsms_variants_request_free"),
    "gsms_qos_probe": ("fresh:fresh_probe", "gsms_qos_probe_free"),
    "gsms_client": ("global:g_client", None),
    "gsms_cluster_result": ("global:g_result", None),
    "gsms_ticket_result": ("global:g_ticket", None),
    "gsms_session_host_result": ("global:g_session_host", None),
    "gsms_variants_result": ("global:g_variants", None),
    "gsms_qos_servers_result": ("global:g_qos_servers", None),
    "gsms_qos_result": ("global:g_qos", None),
    "gsms_call_info": ("global:g_info", None),
    "gsms_operation": ("global:g_op", None),
    "gsms_token_sink": ("sink", None),
}

# gsms_operation_take_<x>_result gets an operation of its own kind (g_op_<x>), so the walk checks
# each kind's take, not only the wrong-kind refusal.
TAKE_OPS = {
    "gsms_operation_take_ticket_result": "g_op_ticket",
    "gsms_operation_take_variants_result": "g_op_variants",
    "gsms_operation_take_qos_servers_result": "g_op_qos_servers",
    "gsms_operation_take_session_host_result": "g_op_session_host",
    "gsms_operation_take_qos_result": "g_op_qos",
}

# Valid values for string parameters, by parameter name (anything else gets "x").
STRINGS = {
    "url": '"http://127.0.0.1:1"',
    "authorization": '"XBL3.0 x=1;t"',
    "session_id": '"/serviceconfigs/a/sessionTemplates/b/sessions/c"',
    "pem_path": '"/nonexistent/ca.pem"',
    "ua": '"NullWalk/1.0"',
}

# Valid values for integer parameters, by name (anything else gets 1).
NUMBERS = {
    "max_callbacks": "0",
    "abort_if_queued": "0",
    "status": "0",
    "index": "0",
    "deadline_ms": "50",
    "connect_ms": "200",
    "request_ms": "200",
}

INTEGER_TYPES = {"uint32_t": "UINT32_MAX", "uint16_t": "UINT16_MAX", "size_t": "SIZE_MAX", "int": "INT_MAX"}


def fail(msg):
    sys.stderr.write("gen_null_test.py: " + msg + "\n")
    sys.exit(2)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def norm(t):
    """'const struct gsms_config *' -> 'gsms_config*' (const and struct dropped)."""
    t = re.sub(r"\b(const|struct|enum)\b", " ", t)
    return re.sub(r"\s+", "", t)


def parse_params(params):
    params = params.strip()
    if params in ("", "void"):
        return []
    out = []
    for p in params.split(","):
        p = " ".join(p.split())
        m = re.match(r"^(.*?)([A-Za-z_]\w*)$", p)
        if not m:
            fail("cannot parse parameter %r" % p)
        out.append((m.group(1).strip(), m.group(2)))
    return out


def parse_header(path):
    text = strip_comments(open(path).read())
    fnptrs = {}
    for m in re.finditer(r"typedef\s+([\w\s\*]+?)\s*\(\s*\*\s*(\w+)\s*\)\s*\(([^;]*?)\)\s*;", text, flags=re.S):
        fnptrs[m.group(2)] = (m.group(1).strip(), parse_params(m.group(3)))
    start = text.find('extern "C" {')
    if start < 0:
        fail('no extern "C" block in the header')
    body = text[start:]
    funcs = []
    for m in re.finditer(r"^([A-Za-z_][\w \t\*]*?)\b(gsms_\w+)\s*\(([^;{]*?)\)\s*;", body, flags=re.S | re.M):
        ret = " ".join(m.group(1).split())
        if ret.startswith("typedef"):
            continue
        funcs.append((ret, m.group(2), parse_params(m.group(3))))
    if len(funcs) < 10:
        fail("found only %d prototypes: is %s the generated header?" % (len(funcs), path))
    return fnptrs, funcs


def exported_symbols(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "T" and parts[2].startswith("gsms_"):
            syms.add(parts[2])
    return syms


class Gen:
    def __init__(self, fnptrs, funcs):
        self.fnptrs = fnptrs
        self.funcs = funcs
        self.names = {f[1] for f in funcs}
        self.cases = []  # C function names
        self.sink_cases = []
        self.out = []

    def kind(self, fname, ctype, pname):
        """How to make a valid argument: returns (kind, detail)."""
        n = norm(ctype)
        if n in self.fnptrs:
            return ("fnptr", n)
        if n in INTEGER_TYPES:
            return ("int", n)
        if n == "char*":
            return ("str", None)
        if n == "void*":
            return ("userdata", None)
        if n in ("char**",):
            return ("out_borrowed", "const char *")
        if n in ("uint32_t*", "uint16_t*", "size_t*", "uint64_t*"):
            return ("out_num", n[:-1])
        if n.endswith("*") and n[:-1] in HANDLES:
            return ("handle", n[:-1])
        m = re.match(r"^(gsms_\w+)\*\*$", n)
        if m and m.group(1) in HANDLES:
            return ("out_handle", m.group(1))
        fail(
            "%s: parameter %s has type %r, which this generator cannot make valid: teach scripts/gen_null_test.py"
            % (fname, pname, ctype)
        )

    def is_pointer(self, kind):
        return kind[0] not in ("int",)

    def stubs(self):
        lines = []
        for name, (ret, params) in sorted(self.fnptrs.items()):
            args = ", ".join("%s %s" % (t, n) for t, n in params) or "void"
            lines.append("static %s stub_%s(%s) {" % (ret, name, args))
            for _, n in params:
                lines.append("  (void)%s;" % n)
            if norm(ret) != "void":
                lines.append("  return 0;")
            lines.append("}")
        return "\n".join(lines)

    def emit_case(self, fname, ret, params, nulls, numbers, label):
        """nulls: set of param names passed NULL; numbers: {param: C expression}."""
        cname = "case_%d" % (len(self.cases) + len(self.sink_cases))
        body = []
        args = []
        after = []
        out_checks = []
        needs_sink = False
        for ctype, pname in params:
            k = self.kind(fname, ctype, pname)
            if pname in nulls:
                args.append("NULL")
                continue
            if k[0] == "int":
                args.append(numbers.get(pname, NUMBERS.get(pname, "1")))
            elif k[0] == "str":
                args.append(STRINGS.get(pname, '"x"'))
            elif k[0] == "userdata":
                args.append("&g_dummy")
            elif k[0] == "fnptr":
                args.append("stub_" + k[1])
            elif k[0] == "handle":
                how, free = HANDLES[k[1]]
                if how.startswith("fresh:"):
                    body.append("  %s *h_%s = %s();" % (k[1], pname, how[6:]))
                    args.append("h_" + pname)
                    after.append("  %s(h_%s);" % (free, pname))
                elif how == "global:g_op" and fname in TAKE_OPS:
                    args.append(TAKE_OPS[fname])
                elif how.startswith("global:"):
                    args.append(how[7:])
                else:
                    needs_sink = True
                    args.append("sink")
            elif k[0] == "out_handle":
                body.append("  %s *out_%s = (%s *)SENTINEL;" % (k[1], pname, k[1]))
                args.append("&out_" + pname)
                out_checks.append(("out_" + pname, "%s_free" % k[1]))
                if pname in OUT_ON_FAILURE.get(fname, set()):
                    out_checks[-1] = ("any:out_" + pname, "%s_free" % k[1])
            elif k[0] == "out_borrowed":
                body.append("  const char *out_%s = (const char *)SENTINEL;" % pname)
                args.append("&out_" + pname)
                out_checks.append(("out_" + pname, None))
            elif k[0] == "out_num":
                body.append("  %s out_%s = (%s)0xA5A5A5A5u;" % (k[1], pname, k[1]))
                args.append("&out_" + pname)
                out_checks.append(("num:out_" + pname, k[1]))
        call = "%s(%s)" % (fname, ", ".join(args))
        rn = norm(ret)
        optional = OPTIONAL.get(fname, set())
        required_null = [p for p in nulls if p not in optional]
        desc = '"%s %s"' % (fname, label)
        if rn == "gsms_status":
            body.append("  gsms_status st = %s;" % call)
            if required_null:
                body.append("  expect_invalid(%s, st);" % desc)
            else:
                body.append("  expect_not_internal(%s, st);" % desc)
            for var, free in out_checks:
                if var.startswith("num:"):
                    v = var[4:]
                    body.append(
                        "  if (st != GSMS_OK && %s != (%s)0xA5A5A5A5u) fail(%s, \"wrote an out-number on failure\");"
                        % (v, free, desc)
                    )
                    continue
                if var.startswith("any:"):
                    # A result carrying the error details, but never for invalid arguments
                    # (nothing is known then: *out is NULL or left alone).
                    var = var[4:]
                    body.append(
                        "  if (st == GSMS_ERR_INVALID_ARGUMENT && %s != (void *)SENTINEL && %s != NULL) fail(%s, \"wrote a result for invalid arguments\");"
                        % (var, var, desc)
                    )
                else:
                    body.append(
                        "  if (st != GSMS_OK && %s != (void *)SENTINEL && %s != NULL) fail(%s, \"wrote an out-pointer on failure\");"
                        % (var, var, desc)
                    )
                if free:
                    body.append("  if (%s != (void *)SENTINEL && %s != NULL) %s(%s);" % (var, var, free, var))
        elif rn == "char*":
            body.append("  const char *s = %s;" % call)
            body.append("  if (s == NULL) fail(%s, \"returned NULL instead of a string\"); else check_cstr(s);" % desc)
        elif rn.endswith("*") and ret.startswith("const ") and rn[:-1] in HANDLES and (rn[:-1] + "_free") not in self.names:
            # A borrowed handle (e.g. gsms_<x>_result_info): never freed; NULL for a NULL source,
            # non-NULL for a live one.
            body.append("  const %s *p = %s;" % (rn[:-1], call))
            if not nulls:
                body.append("  if (p == NULL) fail(%s, \"returned NULL for a live handle\");" % desc)
            else:
                body.append("  if (p != NULL) fail(%s, \"returned non-NULL for NULL\");" % desc)
        elif rn.endswith("*"):
            base = rn[:-1]
            body.append("  %s *p = %s;" % (base, call))
            free = base + "_free"
            if free not in self.names:
                fail("%s returns %s but there is no %s to free it" % (fname, ret, free))
            body.append("  %s(p);" % free)
        elif rn == "void":
            body.append("  %s;" % call)
        else:
            body.append("  (void)%s;" % call)
        body.extend(after)
        body.append("  g_cases++;")
        if needs_sink:
            self.sink_cases.append(cname)
            self.out.append("static void %s(gsms_token_sink *sink) {\n%s\n}" % (cname, "\n".join(body)))
        else:
            self.cases.append(cname)
            self.out.append("static void %s(void) {\n%s\n}" % (cname, "\n".join(body)))

    def generate(self):
        for fname, opt in list(OPTIONAL.items()) + list(OUT_ON_FAILURE.items()):
            f = [x for x in self.funcs if x[1] == fname]
            if not f:
                fail("a table names %s, which the header no longer declares" % fname)
            pnames = {p for _, p in f[0][2]}
            for p in opt:
                if p not in pnames:
                    fail("a table names %s(%s), which has no such parameter" % (fname, p))
        for ret, fname, params in self.funcs:
            kinds = {p: self.kind(fname, t, p) for t, p in params}
            ptrs = [p for _, p in params if self.is_pointer(kinds[p])]
            for p in ptrs:
                self.emit_case(fname, ret, params, {p}, {}, "(%s = NULL)" % p)
            if len(ptrs) > 1:
                self.emit_case(fname, ret, params, set(ptrs), {}, "(every pointer NULL)")
            for t, p in params:
                if kinds[p][0] == "int":
                    big = INTEGER_TYPES[kinds[p][1]]
                    for v in ("0", big):
                        self.emit_case(fname, ret, params, set(), {p: v}, "(%s = %s)" % (p, v))
        return self.render()

    def render(self):
        sink_table = ", ".join(self.sink_cases) if self.sink_cases else "NULL"
        return r"""/* Generated by scripts/gen_null_test.py from include/gsms.h. Do not edit. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "gsms.h"

#define SENTINEL ((uintptr_t)0x5e17)

static int g_cases, g_failed;
static int g_dummy;
static gsms_client *g_client;
static gsms_cluster_result *g_result;
static gsms_operation *g_op;
static const gsms_call_info *g_info;
static gsms_ticket_result *g_ticket;
static gsms_session_host_result *g_session_host;
static gsms_variants_result *g_variants;
static gsms_qos_servers_result *g_qos_servers;
static gsms_qos_result *g_qos;
static gsms_operation *g_op_ticket, *g_op_variants, *g_op_qos_servers, *g_op_session_host, *g_op_qos;

static void fail(const char *what, const char *why) {
  g_failed++;
  fprintf(stderr, "FAIL %%s: %%s (last error: %%s)\n", what, why, gsms_last_error_message());
}

static void check_cstr(const char *s) { (void)strlen(s); }

static void expect_invalid(const char *what, gsms_status st) {
  if (st != GSMS_ERR_INVALID_ARGUMENT) {
    char buf[128];
    snprintf(buf, sizeof buf, "returned %%s, want GSMS_ERR_INVALID_ARGUMENT", gsms_status_name(st));
    fail(what, buf);
  } else if (gsms_last_error_message()[0] == '\0') {
    fail(what, "no reason in gsms_last_error_message()");
  }
}

static void expect_not_internal(const char *what, gsms_status st) {
  if (st == GSMS_ERR_INTERNAL || st > GSMS_PENDING) {
    char buf[128];
    snprintf(buf, sizeof buf, "returned %%s", gsms_status_name(st));
    fail(what, buf);
  }
}

static gsms_config *fresh_config(void) {
  gsms_config *c = gsms_config_new();
  gsms_config_set_base_url(c, "http://127.0.0.1:1");
  gsms_config_set_timeouts(c, 200, 200);
  gsms_config_set_retry_policy(c, 1, 1, 1);
  return c;
}

static gsms_cluster_request *fresh_request(void) {
  gsms_cluster_request *r = gsms_cluster_request_new(1);
  gsms_cluster_request_set_session_id(r, "/serviceconfigs/a/sessionTemplates/b/sessions/c");
  return r;
}

static gsms_inline_cluster_request *fresh_inline_request(void) {
  gsms_inline_cluster_request *r = gsms_inline_cluster_request_new(1);
  gsms_inline_cluster_request_set_service_config_id(r, "scid");
  gsms_inline_cluster_request_set_sandbox_id(r, "XDKS.1");
  gsms_inline_cluster_request_set_ticket_id(r, "ticket");
  gsms_inline_cluster_request_set_gsi_set_id(r, "gsi");
  gsms_inline_cluster_request_set_game_variant_id(r, "variant");
  gsms_inline_cluster_request_set_location(r, "West");
  gsms_inline_cluster_request_set_max_allowed_players(r, 8);
  return r;
}

static gsms_session_host_request *fresh_session_host_request(void) {
  gsms_session_host_request *r = gsms_session_host_request_new(1);
  gsms_session_host_request_set_session_id(r, "6f1d2c1e-0000-4000-8000-000000000001");
  gsms_session_host_request_set_cloud_game_id(r, "gsi");
  gsms_session_host_request_add_location(r, "West");
  return r;
}

static gsms_variants_request *fresh_variants_request(void) { return gsms_variants_request_new(1); }

/* One region whose beacon cannot answer (port 1), probed once with a 1 ms timeout. */
static gsms_qos_probe *fresh_probe(void) {
  gsms_qos_probe *p = gsms_qos_probe_new();
  gsms_qos_probe_add_target(p, "Nowhere", "127.0.0.1", 1);
  gsms_qos_probe_set_options(p, 1, 1, 1);
  return p;
}

%(stubs)s

%(cases)s

typedef void (*sink_case_fn)(gsms_token_sink *);
static sink_case_fn g_sink_cases[] = {%(sink_table)s};
static sink_case_fn g_sink_case;

static gsms_status sink_provider(void *ud, uint32_t force, gsms_token_sink *sink) {
  (void)ud;
  (void)force;
  if (g_sink_case) g_sink_case(sink);
  return GSMS_ERR_AUTH_PROVIDER; /* nothing is sent */
}

int main(void) {
  /* Shared handles: a client that can reach nothing (port 1), a result carrying an error, and an
     operation started without a callback. */
  gsms_config *cfg = fresh_config();
  if (gsms_client_new(cfg, &g_client) != GSMS_OK) {
    fprintf(stderr, "cannot create the client: %%s\n", gsms_last_error_message());
    return 1;
  }
  gsms_cluster_request *req = fresh_request();
  gsms_client_create_cluster(g_client, req, &g_result);
  if (!g_result) {
    fprintf(stderr, "no result from a failed call\n");
    return 1;
  }
  if (gsms_client_create_cluster_async(g_client, req, NULL, NULL, &g_op) != GSMS_OK) {
    fprintf(stderr, "cannot start an operation\n");
    return 1;
  }
  g_info = gsms_cluster_result_info(g_result);
  /* One result of every other type, from failed calls (nothing answers on port 1) or, for QoS, a
     measurement of a beacon that cannot answer; and one operation of every kind. */
  gsms_inline_cluster_request *ireq = fresh_inline_request();
  gsms_session_host_request *sreq = fresh_session_host_request();
  gsms_variants_request *vreq = fresh_variants_request();
  gsms_qos_probe *probe = fresh_probe();
  gsms_client_get_ticket_status(g_client, 1, "ticket", &g_ticket);
  gsms_client_create_session_host(g_client, sreq, &g_session_host);
  gsms_client_get_variants(g_client, vreq, &g_variants);
  gsms_client_get_qos_servers(g_client, 1, &g_qos_servers);
  gsms_client_measure_qos(g_client, probe, &g_qos);
  if (!g_info || !g_ticket || !g_session_host || !g_variants || !g_qos_servers || !g_qos) {
    fprintf(stderr, "a failed call of the family gave no result\n");
    return 1;
  }
  if (gsms_client_get_ticket_status_async(g_client, 1, "ticket", NULL, NULL, &g_op_ticket) != GSMS_OK ||
      gsms_client_get_variants_async(g_client, vreq, NULL, NULL, &g_op_variants) != GSMS_OK ||
      gsms_client_get_qos_servers_async(g_client, 1, NULL, NULL, &g_op_qos_servers) != GSMS_OK ||
      gsms_client_create_session_host_async(g_client, sreq, NULL, NULL, &g_op_session_host) != GSMS_OK ||
      gsms_client_measure_qos_async(g_client, probe, NULL, NULL, &g_op_qos) != GSMS_OK) {
    fprintf(stderr, "cannot start an operation of the family: %%s\n", gsms_last_error_message());
    return 1;
  }

%(calls)s

  for (size_t i = 0; i < sizeof g_sink_cases / sizeof g_sink_cases[0]; i++) {
    if (!g_sink_cases[i]) continue;
    gsms_config *pc = fresh_config();
    gsms_config_set_token_provider(pc, sink_provider, NULL);
    gsms_client *pcl = NULL;
    gsms_client_new(pc, &pcl);
    g_sink_case = g_sink_cases[i];
    gsms_cluster_result *r = NULL;
    gsms_client_create_cluster(pcl, req, &r);
    gsms_cluster_result_free(r);
    gsms_client_free(pcl);
    gsms_config_free(pc);
  }

  gsms_operation_free(g_op);
  gsms_operation_free(g_op_ticket);
  gsms_operation_free(g_op_variants);
  gsms_operation_free(g_op_qos_servers);
  gsms_operation_free(g_op_session_host);
  gsms_operation_free(g_op_qos);
  gsms_ticket_result_free(g_ticket);
  gsms_session_host_result_free(g_session_host);
  gsms_variants_result_free(g_variants);
  gsms_qos_servers_result_free(g_qos_servers);
  gsms_qos_result_free(g_qos);
  gsms_inline_cluster_request_free(ireq);
  gsms_session_host_request_free(sreq);
  gsms_variants_request_free(vreq);
  gsms_qos_probe_free(probe);
  gsms_cluster_result_free(g_result);
  gsms_cluster_request_free(req);
  gsms_client_free(g_client);
  gsms_config_free(cfg);
  printf("null-walk: %%d functions, %%d cases, %%d failed\n", %(nfuncs)d, g_cases, g_failed);
  return g_failed ? 1 : 0;
}
""" % {
            "stubs": self.stubs(),
            "cases": "\n\n".join(self.out),
            "sink_table": sink_table,
            "calls": "\n".join("  %s();" % c for c in self.cases),
            "nfuncs": len(self.funcs),
        }


def main():
    args = sys.argv[1:]
    lib = None
    if "--lib" in args:
        i = args.index("--lib")
        lib = args[i + 1]
        del args[i : i + 2]
    if len(args) != 2:
        fail("usage: gen_null_test.py include/gsms.h out.c [--lib libgsms.so]")
    fnptrs, funcs = parse_header(args[0])
    names = {f[1] for f in funcs}
    if lib:
        syms = exported_symbols(lib)
        missing = sorted(syms - names)
        if missing:
            fail("exported by %s but not declared in the header: %s" % (lib, ", ".join(missing)))
        absent = sorted(names - syms)
        if absent:
            fail("declared in the header but not exported by %s: %s" % (lib, ", ".join(absent)))
    src = Gen(fnptrs, funcs).generate()
    with open(args[1], "w") as f:
        f.write(src)
    print("gen_null_test.py: %d functions, %d function-pointer types -> %s" % (len(funcs), len(fnptrs), args[1]))


if __name__ == "__main__":
    main()
