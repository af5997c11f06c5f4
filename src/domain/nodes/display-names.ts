/** Random node display names: adjective-colour-animal, e.g. nerdy-cyan-rottweiler. */
import { randomInt } from 'node:crypto';

export const ADJECTIVES: readonly string[] = [
  'agile', 'brave', 'bright', 'busy', 'calm', 'clever', 'cosmic', 'cozy', 'crafty', 'curious',
  'daring', 'eager', 'fancy', 'fearless', 'fluffy', 'friendly', 'funky', 'gentle', 'giddy', 'happy',
  'hasty', 'humble', 'jolly', 'keen', 'kind', 'lively', 'lucky', 'mellow', 'merry', 'mighty',
  'nerdy', 'nimble', 'noble', 'patient', 'peppy', 'plucky', 'polite', 'proud', 'quick', 'quiet',
  'rapid', 'sassy', 'shiny', 'sleepy', 'snappy', 'steady', 'sunny', 'swift', 'witty', 'zesty',
];

export const COLOURS: readonly string[] = [
  'amber', 'apricot', 'aqua', 'azure', 'beige', 'black', 'blue', 'bronze', 'brown', 'burgundy',
  'cerise', 'charcoal', 'chartreuse', 'cobalt', 'copper', 'coral', 'crimson', 'cyan', 'emerald', 'fuchsia',
  'gold', 'gray', 'green', 'indigo', 'ivory', 'jade', 'khaki', 'lavender', 'lemon', 'lilac',
  'lime', 'magenta', 'maroon', 'mauve', 'mint', 'navy', 'ochre', 'olive', 'orange', 'peach',
  'pink', 'plum', 'purple', 'red', 'ruby', 'rust', 'saffron', 'scarlet', 'silver', 'teal',
];

export const ANIMALS: readonly string[] = [
  'alpaca', 'badger', 'beagle', 'beaver', 'bison', 'bobcat', 'camel', 'cheetah', 'chipmunk', 'cobra',
  'coyote', 'crane', 'dingo', 'dolphin', 'eagle', 'falcon', 'ferret', 'gazelle', 'gecko', 'gibbon',
  'giraffe', 'hamster', 'hedgehog', 'heron', 'husky', 'ibis', 'jackal', 'jaguar', 'koala', 'lemur',
  'llama', 'lynx', 'marmot', 'meerkat', 'mongoose', 'narwhal', 'ocelot', 'otter', 'panda', 'pelican',
  'penguin', 'puffin', 'rabbit', 'raccoon', 'rottweiler', 'salmon', 'tapir', 'toucan', 'walrus', 'wombat',
];

const pick = (words: readonly string[], random: (n: number) => number) => words[random(words.length)]!;

/** A random adjective-colour-animal name; `random(n)` gives an integer in [0, n). */
export function randomDisplayName(random: (n: number) => number = randomInt): string {
  return `${pick(ADJECTIVES, random)}-${pick(COLOURS, random)}-${pick(ANIMALS, random)}`;
}
