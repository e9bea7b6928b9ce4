import { compileValuePattern, type ValueMatcher } from './pattern.js';

/** A literal an `in` list may hold. */
export type FilterLiteral = string | number | boolean;

/** A path's operators: every one given must hold. */
export interface FilterOperators {
  readonly gt?: number | string;
  readonly gte?: number | string;
  readonly lt?: number | string;
  readonly lte?: number | string;
  readonly exists?: boolean;
  readonly in?: readonly FilterLiteral[];
  readonly not?: readonly string[] | FilterOperators;
}

/** One path's condition in a subscription's filters: patterns (any may match) or operators (all must hold). */
export type FilterCondition = readonly string[] | FilterOperators;

export const FILTER_OPERATORS = ['gt', 'gte', 'lt', 'lte', 'exists', 'in', 'not'] as const;
const COMPARISONS = ['gt', 'gte', 'lt', 'lte'] as const;
type Comparison = (typeof COMPARISONS)[number];

/** The prefix of paths into the source record's Kafka headers (names lower-cased, dots allowed). */
export const HEADERS_PREFIX = 'headers.';

/** The keys readPath follows for a filter path; a header name is one key, lower-cased like the event's. */
export function pathKeys(path: string): string[] {
  return path.startsWith(HEADERS_PREFIX) ? ['headers', path.slice(HEADERS_PREFIX.length).toLowerCase()] : path.split('.');
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/** The instant (ms) of an RFC 3339 date-time string; NaN for anything else. */
export function instantOf(value: unknown): number {
  return typeof value === 'string' && RFC3339.test(value) ? Date.parse(value.toUpperCase()) : NaN;
}

/** A number, or the number a decimal string spells (headers are text); NaN for anything else. */
function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && DECIMAL.test(value) ? Number(value) : NaN;
}

/** The text a scalar is matched by: strings lower-cased, numbers and booleans as JSON spells them; undefined otherwise. */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.toLowerCase();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * An event's value at one path, read once per match call. What the conditions of every candidate
 * subscription look at (its lower-cased scalars, and per element its text, number and instant) is
 * worked out on first use and kept for the rest of the call, not once per candidate.
 */
export class PathValue {
  private lowered?: string[];
  private elementList?: readonly unknown[];
  private texts?: (string | undefined)[];
  private numbers?: number[];
  private instants?: number[];
  constructor(readonly raw: unknown) {}

  /** The scalar's text, or that of each scalar element of an array; nothing for objects and absent values. */
  get scalars(): string[] {
    if (this.lowered) return this.lowered;
    return (this.lowered = this.textOfElements().filter((t): t is string => t !== undefined));
  }

  /** The values a per-element operator looks at: an array's elements, or the value itself. */
  get elements(): readonly unknown[] {
    return (this.elementList ??= Array.isArray(this.raw) ? this.raw : [this.raw]);
  }

  textAt(i: number): string | undefined {
    return this.textOfElements()[i];
  }

  numberAt(i: number): number {
    return (this.numbers ??= this.elements.map(numberOf))[i]!;
  }

  instantAt(i: number): number {
    return (this.instants ??= this.elements.map(instantOf))[i]!;
  }

  private textOfElements(): (string | undefined)[] {
    return (this.texts ??= this.elements.map(scalarText));
  }
}

export type ConditionTest = (value: PathValue) => boolean;

/** Compiles a validated condition (see filterConditionProblem) into a test of the event's value at its path. */
export function compileCondition(condition: FilterCondition): ConditionTest {
  if (isPatternList(condition)) {
    const anyOf = condition.map(compileValuePattern);
    return (value) => anyScalarMatches(value.scalars, anyOf);
  }
  const tests: ConditionTest[] = [];
  if (condition.exists !== undefined) {
    const wanted = condition.exists;
    tests.push((value) => present(value.elements) === wanted);
  }
  if (condition.not !== undefined) {
    const inner = compileCondition(condition.not);
    tests.push((value) => !inner(value));
  }
  const perElement = elementTests(condition);
  if (perElement.length > 0) tests.push((value) => someElementPasses(value, perElement));
  return tests.length === 1 ? tests[0]! : (value) => tests.every((test) => test(value));
}

/**
 * The lower-cased values one of which the event must carry at the path for the condition to
 * hold (a literal pattern list, or an `in` list); undefined when there is no such list. An
 * index may file the subscription under them.
 */
export function requiredLiterals(condition: FilterCondition): string[] | undefined {
  if (isPatternList(condition)) return condition.length > 0 && condition.every((p) => !p.includes('*')) ? unique(condition.map((p) => p.toLowerCase())) : undefined;
  const list = condition.in;
  return list && list.length > 0 ? unique(list.map((v) => scalarText(v)!)) : undefined;
}

const unique = (values: string[]) => [...new Set(values)];

function isPatternList(condition: FilterCondition): condition is readonly string[] {
  return Array.isArray(condition);
}

function anyScalarMatches(values: readonly string[], matchers: readonly ValueMatcher[]): boolean {
  for (const value of values) {
    for (const matcher of matchers) if (matcher(value)) return true;
  }
  return false;
}

/** `exists`: the path has a value other than null; for an array, an element other than null. */
function present(elements: readonly unknown[]): boolean {
  return elements.some((e) => e !== null && e !== undefined);
}

/** A test of the value's element `i`. */
type ElementTest = (value: PathValue, i: number) => boolean;

/** Whether one element satisfies every test (an array's elements are tried in turn). */
function someElementPasses(value: PathValue, tests: readonly ElementTest[]): boolean {
  const n = value.elements.length;
  next: for (let i = 0; i < n; i++) {
    for (const test of tests) if (!test(value, i)) continue next;
    return true;
  }
  return false;
}

/** The operators one element must satisfy together (comparisons and `in`). */
function elementTests(condition: FilterOperators): ElementTest[] {
  const tests: ElementTest[] = [];
  for (const op of COMPARISONS) {
    const operand = condition[op];
    if (operand === undefined) continue;
    const holds = COMPARE[op];
    // NaN (not comparable) fails every comparison.
    if (typeof operand === 'number') tests.push((value, i) => holds(value.numberAt(i), operand));
    else {
      const bound = instantOf(operand);
      tests.push((value, i) => holds(value.instantAt(i), bound));
    }
  }
  if (condition.in !== undefined) {
    const allowed = new Set(condition.in.map((v) => scalarText(v)!));
    tests.push((value, i) => {
      const text = value.textAt(i);
      return text !== undefined && allowed.has(text);
    });
  }
  return tests;
}

const COMPARE: Record<Comparison, (a: number, b: number) => boolean> = {
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
};

// --- validation (the management API's 400s) ---

const MAX_VALUES = 100;
const MAX_TEXT = 200;
const OPERATOR_LIST = FILTER_OPERATORS.join(', ');

/**
 * Why `condition` is not a valid condition for `path`, or null. The message starts with the
 * field's path after `filters` (`.data.amount.gt must be …`, `.data.x: unknown operator …`).
 */
export function filterConditionProblem(path: string, condition: unknown, inNot = false): string | null {
  const field = `.${path}`;
  if (Array.isArray(condition)) {
    if (condition.length === 0) return `${field} must be a non-empty list of patterns`;
    if (condition.length > MAX_VALUES) return `${field} must have at most ${MAX_VALUES} patterns`;
    for (const p of condition) {
      if (typeof p !== 'string' || p.length === 0 || p.length > MAX_TEXT) return `${field} patterns must be strings of 1 to ${MAX_TEXT} characters`;
    }
    return null;
  }
  if (condition === null || typeof condition !== 'object') return `${field} must be a non-empty list of patterns or an object of operators (${OPERATOR_LIST})`;
  const ops = condition as Record<string, unknown>;
  const names = Object.keys(ops);
  if (names.length === 0) return `${field} must have at least one operator (${OPERATOR_LIST})`;
  for (const name of names) {
    if (!(FILTER_OPERATORS as readonly string[]).includes(name)) return `${field}: unknown operator "${name}" (${OPERATOR_LIST})`;
  }
  let kind: 'number' | 'date-time' | undefined;
  for (const op of COMPARISONS) {
    const operand = ops[op];
    if (operand === undefined) continue;
    const isNumber = typeof operand === 'number' && Number.isFinite(operand);
    if (!isNumber && Number.isNaN(instantOf(operand))) return `${field}.${op} must be a number or an RFC 3339 date-time`;
    const thisKind = isNumber ? 'number' : 'date-time';
    if (kind !== undefined && kind !== thisKind) return `${field}: comparisons must all be numbers or all RFC 3339 date-times`;
    kind = thisKind;
  }
  if (ops.exists !== undefined && typeof ops.exists !== 'boolean') return `${field}.exists must be true or false`;
  if (ops.in !== undefined) {
    const list = ops.in;
    const literal = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT) || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_VALUES || !list.every(literal))
      return `${field}.in must be a non-empty list of at most ${MAX_VALUES} strings (1 to ${MAX_TEXT} characters), numbers or booleans`;
  }
  if (ops.not !== undefined) {
    if (inNot) return `${field}.not cannot be nested in not`;
    return filterConditionProblem(`${path}.not`, ops.not, true);
  }
  return null;
}
