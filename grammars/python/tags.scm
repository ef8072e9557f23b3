; Python definitions and references for semlease.
;
; Capture names follow tree-sitter's tags convention (`@definition.<kind>` around an inner `@name`,
; `@reference.<kind>`), extended with the captures the extractor needs to build facts. The extractor
; compiles this file together with locals.scm into ONE query, so the tree is walked once, and reads it
; with `QueryCursor.matches()`: each match holds every capture of one pattern (a definition together
; with its name, body, parameters...). Which pattern a match comes from is decided by the first
; capture listed in `_PATTERN_KINDS` of semlease/languages/python/extract.py that the pattern holds.
;
; Scoping, parents, methods vs functions and what is module level are decided in Python from byte
; ranges; the patterns below only find the nodes.

; ---------------------------------------------------------------- definitions

; `def` and `async def`, at any depth. A method is a function whose parent definition is a class.
; (Optional children such as the return type or the bases are read from the node: an optional capture
; makes the whole query measurably slower.)
(function_definition
  name: (identifier) @name
  parameters: (parameters) @definition.parameters
  body: (block) @definition.body) @definition.function

(class_definition
  name: (identifier) @name
  body: (block) @definition.body) @definition.class

; Decorators, paired with the definition they decorate (one match holds them all).
(decorated_definition
  (decorator)+ @definition.decorator
  definition: (_) @definition.decorated) @definition.decorated_definition

; Module-level assignments (`expression_statement` is a supertype: `x = 1` has no wrapper node). `@name`
; is the first target (an identifier, a tuple or list of targets, an attribute...); chained targets
; (`A = B = 1`) are read from the right side. Assignments in class bodies and in the `if`/`try`/`with`
; blocks of the module or a class are read from those few statements by extract.py: a pattern matching
; every assignment statement would bring in all those of function bodies, at a measurable cost.
(module
  (expression_statement/assignment
    left: (_) @name) @definition.constant)

; ---------------------------------------------------------------- imports (one match per binding)

; import a.b  /  import a, b  /  import a.b as c
(import_statement
  name: [
    (dotted_name) @import.module
    (aliased_import
      name: (dotted_name) @import.module
      alias: (identifier) @import.alias)
  ]) @reference.import

; from m import x  /  from ..p import (x, y as z)  /  from m import *
; (`from __future__ import ...` is a future_import_statement and is left out.)
(import_from_statement
  module_name: (_) @import.from
  [
    name: (dotted_name) @import.name
    name: (aliased_import
      name: (dotted_name) @import.name
      alias: (identifier) @import.alias)
    (wildcard_import) @import.star
  ]) @reference.import

; ---------------------------------------------------------------- references

; Every identifier read as an expression: a head of a chain (`a` in `a.b.c()`), a call target, a name
; inside an annotation, a decorator, a base, a default value... Attribute names, keyword-argument
; names, parameters and assignment targets are not `primary_expression`s, so they are not captured.
; The chain (`a.b.c`) and whether it is called (the tags convention's `@reference.call`) are read from
; the source bytes that follow the head: a `(call function: ...) @reference.call` pattern would add a
; match for every call of the file to tell what one byte tells (`(` after the chain).
(primary_expression/identifier) @reference.name

; In annotations `List[int]` is a generic_type whose name is not a primary_expression.
(generic_type . (identifier) @reference.name)

; Regions that decide a reference's kind (innermost wins; calls inside them keep the region's kind).
(type) @reference.annotation
(default_parameter value: (_) @reference.default)
(typed_default_parameter value: (_) @reference.default)

; ---------------------------------------------------------------- module facts

; __all__ += [...]  (`__all__.extend([...])` and `.append("x")` are found from the `__all__` references;
; `if TYPE_CHECKING:` blocks from the TYPE_CHECKING references; syntax errors from `has_error`: text
; predicates and ERROR/MISSING patterns are costly on every file for what few files hold.)
(expression_statement/augmented_assignment
  left: (identifier) @_target
  right: (_) @dunder_all.extend
  (#eq? @_target "__all__"))
