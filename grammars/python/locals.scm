; Python local scopes and bindings for semlease, following tree-sitter's locals convention
; (`@local.scope`, `@local.definition`). Compiled together with tags.scm into one query.
;
; Function and class scopes come from the definition patterns of tags.scm; here are the expression
; scopes whose names do not leak: lambdas and comprehensions. Names bound in a scope are not reported
; as references from inside it (nor from scopes nested in a function).

(lambda) @local.scope
(list_comprehension) @local.scope
(set_comprehension) @local.scope
(dictionary_comprehension) @local.scope
(generator_expression) @local.scope

; Assignment, augmented-assignment, `for` and comprehension targets (also inside tuples and lists).
(pattern/identifier) @local.definition
(list_splat_pattern (identifier) @local.definition)
(dictionary_splat_pattern (identifier) @local.definition)

; Parameters (functions and lambdas).
(parameter/identifier) @local.definition
(typed_parameter (identifier) @local.definition)
(default_parameter name: (identifier) @local.definition)
(typed_default_parameter name: (identifier) @local.definition)

; The walrus.
(named_expression name: (identifier) @local.definition)

; `with ... as x`, `with ... as (x, y)` and `except E as x`: these identifiers are also captured as
; expressions by tags.scm, so they are told apart to be dropped from the references.
(as_pattern_target (identifier) @local.definition.target)
(as_pattern_target (tuple (identifier) @local.definition.target))
(as_pattern_target (list (identifier) @local.definition.target))

; Capture patterns of `match`: `case [x, *rest]`, `case Point(x=px) as p`, `case {"k": v, **kw}`. (A
; dotted name of one identifier binds it; `Color.RED` is a value.)
(case_pattern (dotted_name . (identifier) @local.definition .))
(keyword_pattern (dotted_name . (identifier) @local.definition .))
(splat_pattern (identifier) @local.definition)
(as_pattern (case_pattern) (identifier) @local.definition)

; `nonlocal x` binds nothing new but x stays local to the enclosing function; `global x` makes x a
; module name in the function that declares it.
(nonlocal_statement (identifier) @local.definition)
(global_statement (identifier) @local.global)
