"""Templates: types kept, text rendering, safe evaluation, errors naming node, field, expression."""

from __future__ import annotations

from typing import Any

import pytest

from flowengine import TemplateError

# private: tests the template compiler directly
from flowengine._reading.templating import (
    compile_expression,
    compile_value,
    expand_settings,
    render,
)


@pytest.fixture
def scope() -> dict[str, Any]:
    return {
        "nodes": {
            "get_user": {
                "output": {
                    "user": {"id": "u-1", "email": "a@example.com", "tags": ["x", "y"]},
                    "a-b": 3,
                    "items": "the key",
                    "_links": {"self": {"href": "/users/u-1"}},
                    "empty": None,
                },
                "error": None,
                "outcome": "success",
                "visits": 2,
            }
        },
        "inputs": {"count": 4, "name": "Ada"},
        "vars": {"attempts": 1},
        "run": {"id": "r1"},
    }


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ nodes.get_user.output.user.id }}", "u-1"),
        ("{{ nodes.get_user.output.user.tags }}", ["x", "y"]),
        ("{{ nodes.get_user.output['a-b'] }}", 3),
        ("{{nodes.get_user.output.user.tags[1]}}", "y"),
        ("{{ nodes.get_user.output.items }}", "the key"),
        ("{{ nodes.get_user.output._links.self.href }}", "/users/u-1"),
        ("{{ nodes.get_user.visits }}", 2),
        ("{{ inputs.count * 2 + vars.attempts }}", 9),
        ("{{ inputs.count > 3 and vars.attempts == 1 }}", True),
        ("{{ run.id }}", "r1"),
        ("{{ nodes.get_user.output.empty }}", None),
        ("{{ inputs.name.lower() }}", "ada"),
        ("{{ upper(inputs.name) }}", "ADA"),
        ("{{ len(nodes.get_user.output.user.tags) }}", 2),
        ("{{ [inputs.count, vars.attempts] }}", [4, 1]),
        ("{{ 'yes' if inputs.count > 1 else 'no' }}", "yes"),
        ("{{ 'x' in nodes.get_user.output.user.tags }}", True),
    ],
)
def test_single_template_keeps_type(template: str, expected: Any, scope: dict[str, Any]) -> None:
    assert render(template, scope) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello {{ inputs.name }}!", "Hello Ada!"),
        ("{{ inputs.count }} items", "4 items"),
        ("tags: {{ nodes.get_user.output.user.tags }}", 'tags: ["x", "y"]'),
        ("{{ inputs.name }}-{{ run.id }}", "Ada-r1"),
        ("null is {{ nodes.get_user.output.empty }}", "null is null"),
        ("flag {{ inputs.count > 1 }}", "flag true"),
        ("no templates here", "no templates here"),
    ],
)
def test_mixed_text_renders_to_string(template: str, expected: str, scope: dict[str, Any]) -> None:
    assert render(template, scope) == expected


def test_nested_values_render_and_constants_are_kept(scope: dict[str, Any]) -> None:
    value = {
        "userId": "{{ nodes.get_user.output.user.id }}",
        "deviceOsType": "Mobile Web",
        "biographic": [{"name": "given_name", "value": "{{ inputs.name }}"}, 7],
    }
    renderer = compile_value(value)
    assert not renderer.is_constant
    assert renderer.render(scope) == {
        "userId": "u-1",
        "deviceOsType": "Mobile Web",
        "biographic": [{"name": "given_name", "value": "Ada"}, 7],
    }
    constant = {"a": [1, {"b": "c"}]}
    renderer = compile_value(constant)
    assert renderer.is_constant
    assert renderer.render(scope) is constant  # constant inputs are not copied per call


def test_default_gives_fallback_for_missing_things(scope: dict[str, Any]) -> None:
    assert render("{{ default(nodes.not_run.output.x, 'n/a') }}", scope) == "n/a"
    assert render("{{ default(nodes.get_user.output.nope, 0) }}", scope) == 0
    assert render("{{ default(nodes.get_user.output.user.tags[9], 'none') }}", scope) == "none"
    assert render("{{ default(nodes.get_user.output.empty, 'was null') }}", scope) == "was null"
    assert render("{{ default(nodes.get_user.output.empty.deeper, 5) }}", scope) == 5
    assert render("{{ default(nodes.get_user.output.user.id, 'n/a') }}", scope) == "u-1"
    assert render("{{ default(nodes.get_user.output.nope) }}", scope) is None


def test_error_names_node_field_and_expression(scope: dict[str, Any]) -> None:
    renderer = compile_value(
        {"user": {"email": "{{ nodes.get_user_details.output.email }}"}}, node_id="create_user"
    )
    with pytest.raises(TemplateError) as info:
        renderer.render(scope)
    assert str(info.value) == (
        "Node 'create_user' input $.user.email: nodes.get_user_details has not run; route the "
        "flow so that 'get_user_details' runs before 'create_user', or write "
        "default(nodes.get_user_details.output.email, fallback) if it may not have run "
        "(expression: nodes.get_user_details.output.email)"
    )
    assert info.value.node_id == "create_user"
    assert info.value.field == "$.user.email"
    assert info.value.expression == "nodes.get_user_details.output.email"


def test_node_not_run_in_a_long_expression_says_the_fix(scope: dict[str, Any]) -> None:
    template = "{{ join([t for t in nodes.other.output.tags if t != 'x'], ', ') or 'none' }}"
    with pytest.raises(TemplateError) as info:
        compile_value({"m": f"Tags: {template}"}, node_id="show").render(scope)
    assert (
        "nodes.other has not run; route the flow so that 'other' runs before 'show', or wrap "
        "the read of nodes.other in default(..., fallback) if it may not have run"
    ) in str(info.value)


def test_a_missing_key_is_not_called_a_node_that_has_not_run(scope: dict[str, Any]) -> None:
    with pytest.raises(TemplateError) as info:
        compile_value("{{ nodes.get_user.output.nope }}", node_id="n").render(scope)
    assert "has not run" not in str(info.value)
    assert "default(" not in str(info.value)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{{ nodes.get_user.output.user.mail }}",
            "nodes.get_user.output.user has no key 'mail'; did you mean 'email'?",
        ),
        ("{{ nodes.get_user.output.user.tags[5] }}", "has no item 5 (it has 2)"),
        ("{{ nodes.get_user.output.empty.x }}", "nodes.get_user.output.empty is null"),
        ("{{ nodes['other'].output }}", "nodes.other has not run"),
        ("{{ foo.bar }}", "unknown name 'foo'; use nodes, inputs, vars or run"),
        ("{{ inputs.count / 0 }}", "ZeroDivisionError"),
        ("{{ open('x') }}", "unknown function 'open'"),
    ],
)
def test_error_messages(template: str, message: str, scope: dict[str, Any]) -> None:
    with pytest.raises(TemplateError) as info:
        compile_value({"f": ["a", template]}, node_id="n").render(scope)
    assert message in str(info.value)
    assert str(info.value).startswith("Node 'n' input $.f[1]: ")


@pytest.mark.parametrize(
    "template",
    [
        "{{ inputs.__class__ }}",
        "{{ inputs.name.__class__.__mro__ }}",
        "{{ inputs.name.format }}",
        "{{ inputs.name.upper.__self__ }}",
        "{{ (1).real }}",
        "{{ inputs.count.__add__(1) }}",
        "{{ __import__('os') }}",
        "{{ 10 ** 10000000 }}",
        "{{ 'x' * 10000000 }}",
        "{{ [x for x in 'abc'].__len__() }}",
    ],
)
def test_expressions_cannot_reach_python_internals(template: str, scope: dict[str, Any]) -> None:
    with pytest.raises(TemplateError):
        render(template, scope)


def test_syntax_error_is_reported_at_compile_time() -> None:
    with pytest.raises(TemplateError) as info:
        compile_value({"x": "{{ a b }}"}, node_id="n")
    assert str(info.value).startswith("Node 'n' input $.x: invalid expression {{ a b }}")


def test_an_expression_may_span_lines_as_yaml_keeps_them() -> None:
    # `>-` keeps the break before a more-indented line: "status\n   not in [...]".
    template = "{{ vars.status\n   not in ['SUCCESS', 'FAIL']\r\n   and vars.n <= 12 }}"
    assert render(template, {"vars": {"status": "IN_PROGRESS", "n": 3}}) is True
    assert render(template, {"vars": {"status": "SUCCESS", "n": 3}}) is False


def test_expressions_are_compiled_once() -> None:
    first = compile_expression(" nodes.a.output ")
    assert compile_expression(" nodes.a.output ") is first


def test_expand_settings_reads_variables_and_reports_secrets() -> None:
    settings = {
        "client_id": "${CLIENT_ID}",
        "client_secret": "${SECRET:-fallback}",
        "region": "${REGION:-sandbox}",
        "nested": {"url": "https://${HOST}/v1", "list": ["${CLIENT_ID}", 3]},
        "price": "$$5",
    }
    values, reads = expand_settings(
        settings, {"CLIENT_ID": "abc", "SECRET": "s3cr3t", "HOST": "api.example"}
    )
    secrets = set().union(*reads.values())
    assert values == {
        "client_id": "abc",
        "client_secret": "s3cr3t",
        "region": "sandbox",
        "nested": {"url": "https://api.example/v1", "list": ["abc", 3]},
        "price": "$5",
    }
    assert secrets == {"abc", "s3cr3t", "api.example"}


def test_expand_settings_missing_variable_names_setting_and_fix() -> None:
    with pytest.raises(TemplateError) as info:
        expand_settings({"auth": {"client_secret": "${NOPE}"}}, {})
    message = str(info.value)
    assert "$.auth.client_secret" in message
    assert "NOPE is not set" in message
    assert "${NOPE:-default}" in message


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ int(inputs.name) }}", "ValueError: invalid literal for int() with base 10 (the"),
        ("{{ float(inputs.name) }}", "ValueError: could not convert string to float (the"),
    ],
)
def test_a_failed_conversion_does_not_echo_the_value(
    scope: dict[str, Any], template: str, message: str
) -> None:
    scope["inputs"]["name"] = "Johnathan Smithers"
    with pytest.raises(TemplateError) as info:
        compile_value({"n": template}, node_id="n").render(scope)
    assert message in str(info.value)
    assert "Johnathan" not in str(info.value)


def test_a_computed_key_that_is_missing_is_named_by_its_expression(
    scope: dict[str, Any],
) -> None:
    scope["inputs"]["email"] = "john.smithers@example.com"
    scope["vars"]["scores"] = {"ada@example.com": 3}
    with pytest.raises(TemplateError) as info:
        compile_value("{{ vars.scores[inputs.email] }}", node_id="n").render(scope)
    assert "vars.scores has no item [inputs.email] (a key of type str)" in str(info.value)
    assert "smithers" not in str(info.value)
    fallback = "{{ default(vars.scores[inputs.email], 0) }}"
    assert compile_value(fallback, node_id="n").render(scope) == 0


# -- limits: every value a template builds is sized before it is built ("Limits") ------------

BUILDS = "; templates build values of at most 100,000 characters"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("'x'.zfill(10**9)", "zfill(1,000,000,000) would make too long a text" + BUILDS),
        (
            "join(['x' * 99999] * 99999, ',')",
            "join() would make a text of more than 100,000 characters" + BUILDS,
        ),
        ("','.join(['x' * 99999] * 99999)", "join() would make too long a text" + BUILDS),
        (
            "str(['x' * 99999] * 99999)",
            "str() would make a text of more than 100,000 characters" + BUILDS,
        ),
        ("('x' * 99999).replace('x', 'xx')", "replace() would make too long a text" + BUILDS),
        ("('x' * 99999).replace('', 'y')", "replace() would make too long a text" + BUILDS),
        ("'%999999999d' % 1", "a % format's widths would make too long a text" + BUILDS),
        (
            "'%s%s' % ('x' * 99999, 'y')",
            "the % format would make a text of more than 100,000" + BUILDS,
        ),
        ("f'{1:>999999999}'", "an f-string's format width would make too long a text" + BUILDS),
        ("'x' * 100001", "repeating it 100,001 times would make too long a value" + BUILDS),
        ("[1, 2] * 50001", "repeating it 50,001 times would make too long a value" + BUILDS),
        ("'x' * 99999 + 'yy'", "adding these two would make too long a value" + BUILDS),
        (
            "['x' * 99999 for s in ['a'] * 9999]",
            "the expression builds more than 1,000,000 characters and items in all; build "
            "less (a comprehension of large texts, say)",
        ),
        (
            "['x' * 99999] * 99999",
            "the value would be more than 10,000,000 characters as JSON, the most an "
            "expression gives",
        ),
        (
            "[['x' * 9] * 99999] * 99999",
            "the value would be more than 10,000,000 characters as JSON, the most an "
            "expression gives",
        ),
        (
            "int('9' * 5000)",
            "int() of a text of 5,000 characters: integers have at most 4,000 digits",
        ),
        (
            "4000000 ** 1000",
            "the result would be an integer of more than 4,000 digits, the most a template "
            "computes",
        ),
        (
            "10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000",
            "the result would be an integer of more than 4,000 digits, the most a template "
            "computes",
        ),
    ],
)
def test_a_template_cannot_build_a_huge_value(
    expression: str, message: str, scope: dict[str, Any]
) -> None:
    renderer = compile_value({"x": f"{{{{ {expression} }}}}"}, node_id="n")
    with pytest.raises(TemplateError) as caught:
        renderer.render(scope)
    assert str(caught.value) == f"Node 'n' input $.x: {message} (expression: {expression})"


def test_values_within_the_limits_are_built(scope: dict[str, Any]) -> None:
    assert render("{{ 'x'.zfill(5) }}", scope) == "0000x"
    assert render("{{ len('x' * 100000) }}", scope) == 100_000
    assert render("{{ len(join(['ab'] * 1000, ',')) }}", scope) == 2999
    assert render("{{ '%s-%05d' % ('a', 3) }}", scope) == "a-00003"
    assert render("{{ f'{3:>4}' }}", scope) == "   3"
    assert render("{{ len(str(2 ** 1000)) }}", scope) == 302
    assert render("{{ len(['x' * 999] * 9999) }}", scope) == 9999
    assert render("{{ 'a-b'.replace('-', '--') }}", scope) == "a--b"


def test_a_deep_or_long_expression_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="nests deeper than 100 levels"):
        compile_value(" {{ " + " + ".join(["1"] * 5000) + " }}")
    with pytest.raises(TemplateError) as caught:
        compile_value("{{ " + "x" * 100_001 + " }}")
    assert "the expression is 100,001 characters long" in str(caught.value)
    assert len(str(caught.value)) < 500  # the expression is not echoed whole


def test_a_text_of_many_templates_is_bounded_too() -> None:
    scope = {"nodes": {}, "inputs": {"s": "x" * 2_000_000}, "vars": {}, "run": {}}
    renderer = compile_value({"x": "{{ inputs.s }}" * 6}, node_id="n")
    with pytest.raises(TemplateError) as caught:
        renderer.render(scope)
    assert str(caught.value) == (
        "Node 'n' input $.x: the text would be more than 10,000,000 characters long; build "
        "less (expression: inputs.s)"
    )
    assert len(compile_value("{{ inputs.s }}" * 5).render(scope)) == 10_000_000
