// greet.ts - the service's one piece of logic, typed.

export type Style = "plain" | "excited";

export function greet(name: string, style: Style = "plain"): string {
  const who = name.trim() || "world";
  return style === "excited" ? `Hello, ${who}!` : `Hello, ${who}`;
}
