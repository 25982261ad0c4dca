import { describe, expect, it } from 'vitest';
import { snakeFlagName, vllmFlagList, vllmLauncher } from '../../src/vllm-args.js';

describe('vLLM command-line tokens', () => {
  it('splits --flag value and --flag=value, a flag before a flag or at the end is boolean', () => {
    expect(
      vllmFlagList(['--max-num-seqs', '64', '--block-size=32', '--enforce-eager', '--port', '8000', '--x']),
    ).toEqual([
      { name: 'max-num-seqs', value: '64' },
      { name: 'block-size', value: '32' },
      { name: 'enforce-eager', value: '' },
      { name: 'port', value: '8000' },
      { name: 'x', value: '' },
    ]);
  });

  it('keeps an empty =value, a value holding =, and skips stray and single-dash tokens', () => {
    expect(vllmFlagList(['stray', '--a=', '--b=k=v', '-tp', '2', '--c', '-1'])).toEqual([
      { name: 'a', value: '' },
      { name: 'b', value: 'k=v' },
      { name: 'c', value: '-1' },
    ]);
  });

  it('compares dash and underscore spellings as one, keeping a dash beyond the leading two', () => {
    expect(snakeFlagName('max-num-seqs')).toBe('max_num_seqs');
    expect(vllmFlagList(['---x', '1']).map((f) => snakeFlagName(f.name))).toEqual(['_x']);
    expect(snakeFlagName('max_num_seqs')).toBe('max_num_seqs');
  });

  it('splits off the launcher and the positional model of every launch form', () => {
    expect(vllmLauncher(['vllm', 'serve', 'm', '--max-num-seqs', '8'])).toEqual({
      model: 'm',
      rest: ['--max-num-seqs', '8'],
    });
    expect(vllmLauncher(['serve', 'm'])).toEqual({ model: 'm', rest: [] });
    expect(vllmLauncher(['python3', '-m', 'vllm.entrypoints.openai.api_server', '--model', 'm'])).toEqual({
      rest: ['--model', 'm'],
    });
    expect(vllmLauncher(['--model', 'm'])).toEqual({ rest: ['--model', 'm'] });
    // Another program's -m is not vLLM's launcher.
    expect(vllmLauncher(['python', '-m', 'http.server'])).toEqual({
      model: 'python',
      rest: ['-m', 'http.server'],
    });
  });
});
