import { describe, expect, it } from '@jest/globals';
import {
  analyze,
  baseWord,
  isPunctuation,
  markNegation,
  NEGATION_PREFIX,
  NEGATION_WORDS,
  negationRoles,
  normalizeText,
  preprocess,
  stemToken,
  STOPWORDS,
  tokenize,
} from '../src/text/preprocess.js';

describe('normalizeText', () => {
  it('applies NFKC, strips HTML, decodes entities, lowercases and expands contractions', () => {
    expect(normalizeText("The <b>food</b> wasn’t good &amp; I can't   wait")).toBe(
      'the food was not good & i can not wait',
    );
    expect(normalizeText('ﬁne ＡＢＣ')).toBe('fine abc');
    expect(normalizeText("won't they're I'm we'll it's dont")).toBe(
      'will not they are i am we will it is do not',
    );
  });

  it('strips HTML tags, replacing each with a space, and keeps the text between them', () => {
    expect(normalizeText('<p>Great <i>pasta</i></p><br/>service')).toBe('great pasta service');
    expect(normalizeText('good<br>food')).toBe('good food');
    expect(normalizeText('<script>alert(1)</script> tasty')).toBe('alert(1) tasty');
    expect(normalizeText('<div class="x">  spaced   out  </div>')).toBe('spaced out');
  });

  it('decodes HTML entities after stripping tags (encoded tags stay as text)', () => {
    expect(normalizeText('Fish &amp; chips &quot;yum&quot; caf&eacute;')).toBe('fish & chips "yum" café');
    expect(normalizeText('5 &#8364; meal')).toBe('5 € meal');
    expect(normalizeText('A &gt; B')).toBe('a > b');
    expect(normalizeText('&lt;b&gt;bold&lt;/b&gt;')).toBe('<b>bold</b>');
    // One level of decoding only; &nbsp; becomes U+00A0, which counts as whitespace.
    expect(normalizeText('&nbsp;&amp;amp;')).toBe('&amp;');
  });

  it('folds curly and other apostrophes to straight ones before expanding contractions', () => {
    expect(normalizeText('I don’t like it')).toBe('i do not like it');
    expect(normalizeText('It wasnʼt bad')).toBe('it was not bad');
    expect(normalizeText('I don`t care')).toBe('i do not care');
    expect(normalizeText('won’t return')).toBe('will not return');
    expect(normalizeText('‘quoted’')).toBe("'quoted'");
    expect(normalizeText('I don´t mind')).toBe('i do not mind');
  });

  it("expands irregular negated contractions before the generic n't rule", () => {
    expect(normalizeText("can't")).toBe('can not');
    expect(normalizeText("won't")).toBe('will not');
    expect(normalizeText("ain't")).toBe('is not');
    expect(normalizeText("shan't")).toBe('shall not');
    expect(normalizeText("CAN'T WAIT")).toBe('can not wait');
    expect(normalizeText("isn't couldn't shouldn't")).toBe('is not could not should not');
    expect(normalizeText("They're we've I'd you'll let's")).toBe('they are we have i would you will let us');
    expect(normalizeText("that's where's the chef's")).toBe("that is where is the chef's");
  });

  it('expands bare negated auxiliaries but leaves look-alike words alone', () => {
    expect(normalizeText('dont wasnt didnt')).toBe('do not was not did not');
    expect(normalizeText('isnt arent hasnt couldnt')).toBe('is not are not has not could not');
    expect(normalizeText('cant wont want donut')).toBe('cant wont want donut');
  });

  it('collapses whitespace and handles empty or blank input', () => {
    expect(normalizeText('')).toBe('');
    expect(normalizeText(' \t\n ')).toBe('');
    expect(normalizeText('a\n\nb\t c')).toBe('a b c');
  });
});

describe('tokenize', () => {
  it('splits words and punctuation, dropping inner apostrophes and other symbols', () => {
    expect(tokenize("the chef's specials, well-done!")).toEqual([
      'the',
      'chefs',
      'specials',
      ',',
      'well',
      'done',
      '!',
    ]);
    expect(tokenize('a (b) [c] {d} "e"; f: g? h.')).toEqual([
      'a',
      '(',
      'b',
      ')',
      '[',
      'c',
      ']',
      '{',
      'd',
      '}',
      '"',
      'e',
      '"',
      ';',
      'f',
      ':',
      'g',
      '?',
      'h',
      '.',
    ]);
    expect(tokenize('5 € meal & more #1 @home')).toEqual(['5', 'meal', 'more', '1', 'home']);
    expect(tokenize('')).toEqual([]);
  });

  it('classifies punctuation tokens', () => {
    for (const p of ['.', ',', '!', '?', ';', ':', '(', ')', '"', '[', ']'])
      expect(isPunctuation(p)).toBe(true);
    for (const w of ['good', 'NOT_good', '5', 'café']) expect(isPunctuation(w)).toBe(false);
  });
});

describe('tokenize + markNegation', () => {
  it('marks words after a negation word up to the next punctuation', () => {
    expect(markNegation(tokenize('not good, but great. never again'))).toEqual([
      'not',
      'NOT_good',
      ',',
      'but',
      'great',
      '.',
      'never',
      'NOT_again',
    ]);
  });

  it.each([',', '.', '!', '?', ';', ':', '(', ')', '"'])('ends the negation scope at "%s"', (p) => {
    expect(markNegation(['not', 'good', p, 'bad'])).toEqual(['not', 'NOT_good', p, 'bad']);
  });

  it('does not end the scope at dashes (they are not tokens) and keeps negation words unprefixed', () => {
    expect(markNegation(tokenize('not good - bad'))).toEqual(['not', 'NOT_good', 'NOT_bad']);
    expect(markNegation(['no', 'never', 'good', 'nobody'])).toEqual(['no', 'never', 'NOT_good', 'nobody']);
    expect(markNegation([])).toEqual([]);
  });

  it('opens a scope for every negation word and returns a new array', () => {
    for (const w of NEGATION_WORDS) expect(markNegation([w, 'tasty'])).toEqual([w, 'NOT_tasty']);
    const input = ['not', 'good'];
    const out = markNegation(input);
    expect(out).not.toBe(input);
    expect(input).toEqual(['not', 'good']);
  });
});

describe('stopwords, stemming and prefixes', () => {
  it('keeps negation words out of the stopword list', () => {
    for (const w of NEGATION_WORDS) expect(STOPWORDS.has(w)).toBe(false);
    expect(STOPWORDS.has('the')).toBe(true);
    expect(STOPWORDS.has('was')).toBe(true);
    expect(STOPWORDS.has('never')).toBe(false);
  });

  it('stems the word after the NOT_ prefix and keeps the prefix', () => {
    expect(NEGATION_PREFIX).toBe('NOT_');
    expect(stemToken('loving')).toBe('love');
    expect(stemToken('NOT_loving')).toBe('NOT_love');
    expect(stemToken('NOT_services')).toBe('NOT_servic');
    expect(baseWord('NOT_good')).toBe('good');
    expect(baseWord('good')).toBe('good');
  });
});

describe('preprocess', () => {
  it('gives exact tokens for known reviews', () => {
    expect(preprocess("The food wasn't good!")).toEqual(['food', 'not', 'NOT_good']);
    expect(preprocess('Wow... Loved this place.')).toEqual(['wow', 'love', 'place']);
    expect(analyze('Not tasty and the texture was just nasty.').words).toEqual([
      'not',
      'NOT_tasty',
      'NOT_and',
      'NOT_the',
      'NOT_texture',
      'NOT_was',
      'NOT_just',
      'NOT_nasty',
    ]);
    expect(preprocess('')).toEqual([]);
    expect(preprocess('🍕 😀 !!!')).toEqual([]);
  });

  it('strips HTML and decodes entities end to end', () => {
    expect(analyze('<p>Great <i>pasta</i></p><br/>service')).toEqual({
      normalized: 'great pasta service',
      vaderText: 'great pasta service',
      words: ['great', 'pasta', 'service'],
      tokens: ['great', 'pasta', 'servic'],
    });
    expect(preprocess('Fish &amp; chips &quot;yum&quot; caf&eacute;')).toEqual([
      'fish',
      'chip',
      'yum',
      'café',
    ]);
  });

  it('expands contractions with curly apostrophes and marks negation', () => {
    expect(preprocess('I don’t recommend the burgers')).toEqual(['not', 'NOT_recommend', 'NOT_burger']);
    expect(preprocess("CAN'T WAIT")).toEqual(['not', 'NOT_wait']);
    expect(preprocess('won’t return')).toEqual(['will', 'not', 'NOT_return']);
    expect(analyze("ain't nobody got time")).toEqual({
      normalized: 'is not nobody got time',
      vaderText: 'is not nobody got time',
      words: ['is', 'not', 'nobody', 'NOT_got', 'NOT_time'],
      tokens: ['not', 'nobodi', 'NOT_time'],
    });
    expect(preprocess('dont wasnt didnt')).toEqual(['not', 'not', 'not']);
    expect(preprocess('It wasnt cooked')).toEqual(['not', 'NOT_cook']);
  });

  it('removes stopwords (also inside a negation scope) but keeps negation words', () => {
    expect(analyze('I have never had anything like this without a doubt')).toEqual({
      normalized: 'i have never had anything like this without a doubt',
      vaderText: 'i have never had anything like this without a doubt',
      words: [
        'i',
        'have',
        'never',
        'NOT_had',
        'NOT_anything',
        'NOT_like',
        'NOT_this',
        'without',
        'NOT_a',
        'NOT_doubt',
      ],
      tokens: ['never', 'NOT_anyth', 'without', 'NOT_doubt'],
    });
    expect(preprocess('There was nothing good and nobody cared')).toEqual([
      'noth',
      'NOT_good',
      'nobodi',
      'NOT_care',
    ]);
    expect(preprocess('no')).toEqual(['no']);
  });

  it('stems negated words keeping the NOT_ prefix', () => {
    expect(preprocess('not loving the waiting')).toEqual(['not', 'NOT_love', 'NOT_wait']);
    expect(preprocess('The waiters were hardly attentive')).toEqual(['waiter', 'hardli', 'NOT_attent']);
  });

  it('ends the negation scope at punctuation', () => {
    expect(preprocess('not good. really good')).toEqual(['not', 'NOT_good', 'realli', 'good']);
    expect(preprocess('Never going back, the staff was rude!')).toEqual([
      'never',
      'NOT_go',
      'NOT_back',
      'staff',
      'rude',
    ]);
    expect(preprocess("It's not the best; service was slow")).toEqual(['not', 'NOT_best', 'servic', 'slow']);
    expect(preprocess('hardly edible (seriously) tasty')).toEqual([
      'hardli',
      'NOT_edibl',
      'serious',
      'tasti',
    ]);
  });

  it('handles unicode, emoji and odd code points without crashing', () => {
    expect(preprocess('Café crème brûlée 😀 was délicieux ✨')).toEqual([
      'café',
      'crème',
      'brûlée',
      'délicieux',
    ]);
    expect(preprocess('日本語 テキスト')).toEqual(['日本語', 'テキスト']);
    expect(preprocess('ＦＯＯＤ')).toEqual(['food']);
    expect(preprocess('\u0000\uFFFF\uD800 lone surrogate')).toEqual(['lone', 'surrog']);
    expect(preprocess('👍👍👍')).toEqual([]);
    const long = 'good food '.repeat(5000);
    expect(preprocess(long)).toHaveLength(10000);
  });
});

describe('"clause" negation rules', () => {
  const clause = (text: string) => markNegation(tokenize(normalizeText(text)), 'clause');
  const punctuation = (text: string) => markNegation(tokenize(normalizeText(text)));

  it('ends a scope at a contrast word, where the punctuation rules run on', () => {
    const text = 'The place is not fancy but the food is great';
    expect(punctuation(text).slice(3)).toEqual([
      'not',
      'NOT_fancy',
      'NOT_but',
      'NOT_the',
      'NOT_food',
      'NOT_is',
      'NOT_great',
    ]);
    expect(clause(text).slice(3)).toEqual(['not', 'NOT_fancy', 'but', 'the', 'food', 'is', 'great']);
    for (const word of ['however', 'although', 'though', 'yet', 'except', 'whereas']) {
      expect(markNegation(['not', 'good', word, 'tasty'], 'clause')).toEqual([
        'not',
        'NOT_good',
        word,
        'tasty',
      ]);
    }
    expect(clause('not good, great')).toEqual(['not', 'NOT_good', ',', 'great']);
  });

  it('ends a scope at the next negation word, which opens its own', () => {
    expect(clause('not good and never friendly')).toEqual([
      'not',
      'NOT_good',
      'NOT_and',
      'never',
      'NOT_friendly',
    ]);
    expect(negationRoles(tokenize('not good and never friendly'), 'clause')).toEqual([
      'negator',
      'negated',
      'negated',
      'negator',
      'negated',
    ]);
  });

  it('leaves negation words of set phrases inert: "not only", "nothing but", "can\'t wait"', () => {
    expect(clause('Not only was the food great')).toEqual(['not', 'only', 'was', 'the', 'food', 'great']);
    expect(negationRoles(tokenize('not only good'), 'clause')).toEqual(['inert', 'plain', 'plain']);
    expect(clause('nothing but praise')).toEqual(['nothing', 'but', 'praise']);
    expect(clause("I can't wait to come back")).toEqual(['i', 'can', 'not', 'wait', 'to', 'come', 'back']);
    expect(clause('I cannot wait')).toEqual(['i', 'cannot', 'wait']);
    expect(clause("couldn't wait")).toEqual(['could', 'not', 'wait']);
    // "wait" is inert only after can/could: "did not wait" negates.
    expect(clause('We did not wait long')).toEqual(['we', 'did', 'not', 'NOT_wait', 'NOT_long']);
    expect(punctuation('not only good')).toEqual(['not', 'NOT_only', 'NOT_good']);
  });

  it('reads a negated comparative as a superlative after never/no/nothing/cannot and can/could not', () => {
    expect(clause('I have never had better food')).toEqual(['i', 'have', 'never', 'had', 'better', 'food']);
    expect(negationRoles(tokenize('i have never had better food'), 'clause')[2]).toBe('inert');
    expect(clause('There is no better pizza')).toEqual(['there', 'is', 'no', 'better', 'pizza']);
    expect(clause('I cannot imagine better food')).toEqual(['i', 'cannot', 'imagine', 'better', 'food']);
    expect(clause("I couldn't be happier")).toEqual(['i', 'could', 'not', 'be', 'happier']);
    expect(clause("I've never been more insulted")).toEqual([
      'i',
      'have',
      'never',
      'been',
      'more',
      'insulted',
    ]);
    // Other negations of a comparative stay negations.
    expect(clause('The soup was not better')).toEqual(['the', 'soup', 'was', 'not', 'NOT_better']);
    expect(clause('never better. never good')).toEqual(['never', 'better', '.', 'never', 'NOT_good']);
  });

  it('reads a failure verb inside a scope as a double negation: "never fails to impress"', () => {
    expect(clause('It never fails to impress')).toEqual(['it', 'never', 'NOT_fails', 'to', 'impress']);
    expect(clause('They failed to impress')).toEqual(['they', 'failed', 'to', 'impress']);
    expect(punctuation('It never fails to impress')).toEqual([
      'it',
      'never',
      'NOT_fails',
      'NOT_to',
      'NOT_impress',
    ]);
  });

  it('analyze drops inert negation words and shows VADER the same negations', () => {
    expect(analyze('I could not be happier!', 'clause')).toEqual({
      normalized: 'i could not be happier!',
      vaderText: 'i could be happier!',
      words: ['i', 'could', 'be', 'happier'],
      tokens: ['happier'],
    });
    // VADER does not know "no", "nobody", "hardly", "barely" as negations: it sees "not" where they negate.
    expect(analyze('No complaints about the food.', 'clause')).toEqual({
      normalized: 'no complaints about the food.',
      vaderText: 'not complaints about the food.',
      words: ['no', 'NOT_complaints', 'NOT_about', 'NOT_the', 'NOT_food'],
      tokens: ['no', 'NOT_complaint', 'NOT_food'],
    });
    expect(analyze('The food was hardly edible', 'clause').vaderText).toBe('the food was not edible');
    expect(analyze('No.', 'clause').vaderText).toBe('no.');
    expect(analyze('Not only tasty, but “cheap”', 'clause').vaderText).toBe('only tasty, but “cheap”');
  });

  it('the default ("punctuation") rules give what they always gave, with VADER on the normalized text', () => {
    for (const text of [
      'I could not be happier!',
      'No complaints about the food.',
      'The place is not fancy but the food is great',
      'It never fails to impress',
    ]) {
      const a = analyze(text);
      expect(a).toEqual(analyze(text, 'punctuation'));
      expect(a.vaderText).toBe(a.normalized);
      const marked = markNegation(tokenize(a.normalized));
      expect(a.words).toEqual(marked.filter((t) => !isPunctuation(t)));
    }
    expect(analyze('I could not be happier!').words).toEqual(['i', 'could', 'not', 'NOT_be', 'NOT_happier']);
  });
});
