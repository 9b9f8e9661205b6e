import type { Command } from 'commander';

/**
 * What a command does with the lake, declared where the command is registered so that a new
 * writer cannot be forgotten in a list kept elsewhere:
 * - `writes`: it writes into the lake (refused on a bucket's local copy without CDRPIPE_LAKE_URL);
 * - `reads`: it reads the lake, the warehouse or the state beside it (the default);
 * - `none`: it never touches a data directory (the simulator).
 */
export const LAKE_ACCESS = ['writes', 'reads', 'none'] as const;
export type LakeAccess = (typeof LAKE_ACCESS)[number];

const declared = new WeakMap<Command, LakeAccess>();

/** Declares `command`'s lake access; its subcommands inherit it unless they declare their own. */
export function withLakeAccess<C extends Command>(access: LakeAccess, command: C): C {
  declared.set(command, access);
  return command;
}

/** The access `command` declared, else its nearest ancestor's, else `reads`. */
export function lakeAccessOf(command: Command): LakeAccess {
  for (let c: Command | null = command; c; c = c.parent) {
    const access = declared.get(c);
    if (access) return access;
  }
  return 'reads';
}

/** The command's path below the program, e.g. "lake compact", for messages. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c && c.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
