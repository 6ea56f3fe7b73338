namespace CharacterGen.Diffusion.Text;

/// <summary>
/// ComfyUI's prompt-weight syntax (<c>comfy/sd1_clip.py</c> token_weights): each level of <c>( )</c> multiplies the
/// weight by 1.1; <c>(text:w)</c> sets it to w outright (it does not multiply the outer weight); <c>\(</c> and
/// <c>\)</c> are literal parentheses. Square brackets, BREAK and A1111's other syntax are plain text here.
/// Unbalanced parentheses follow ComfyUI exactly: an unclosed <c>(</c> and a stray <c>)</c> stay in the text.
/// </summary>
public static class PromptWeights
{
    /// <summary>Deeper nesting is refused (ComfyUI's recursive parser stops near Python's recursion limit, 1000).</summary>
    public const int MaxNesting = 1000;

    // Escaped parentheses are hidden behind control characters while parsing, as ComfyUI does.
    private const string HiddenClose = "\0\u0001";
    private const string HiddenOpen = "\0\u0002";

    /// <summary>The prompt as (text, weight) runs, in order; empty runs are left out.</summary>
    /// <exception cref="FormatException">Parentheses nest deeper than <see cref="MaxNesting"/>.</exception>
    public static IReadOnlyList<WeightedText> Parse(string text)
    {
        string hidden = text.Replace("\\)", HiddenClose).Replace("\\(", HiddenOpen);
        var runs = new List<WeightedText>();
        Weigh(hidden, 1.0, 0, runs);
        for (int i = 0; i < runs.Count; i++)
            runs[i] = runs[i] with { Text = runs[i].Text.Replace(HiddenClose, ")").Replace(HiddenOpen, "(") };
        return runs;
    }

    private static void Weigh(string text, double weight, int depth, List<WeightedText> runs)
    {
        if (depth > MaxNesting) throw new FormatException($"prompt parentheses nest deeper than {MaxNesting} levels");
        foreach (string part in SplitTopLevel(text))
        {
            if (part.Length < 2 || part[0] != '(' || part[^1] != ')')
            {
                runs.Add(new WeightedText(part, weight));
                continue;
            }
            string inner = part[1..^1];
            double innerWeight = weight * 1.1;
            int colon = inner.LastIndexOf(':');
            // A colon at position 0 is not a weight: "(:1.5)" is the text ":1.5" at ×1.1.
            if (colon > 0 && PythonFloat.TryParse(inner[(colon + 1)..], out double explicitWeight))
            {
                innerWeight = explicitWeight;
                inner = inner[..colon];
            }
            Weigh(inner, innerWeight, depth + 1, runs);
        }
    }

    /// <summary>
    /// Cuts text into plain runs and top-level "(...)" groups. The depth counter is allowed to go negative on a stray
    /// ")" (the character stays in the run), which is how ComfyUI treats unbalanced input.
    /// </summary>
    private static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        var current = new System.Text.StringBuilder();
        int depth = 0;
        foreach (char c in text)
        {
            if (c == '(')
            {
                if (depth == 0)
                {
                    if (current.Length > 0) parts.Add(current.ToString());
                    current.Clear();
                }
                current.Append(c);
                depth++;
            }
            else if (c == ')')
            {
                depth--;
                current.Append(c);
                if (depth == 0)
                {
                    parts.Add(current.ToString());
                    current.Clear();
                }
            }
            else current.Append(c);
        }
        if (current.Length > 0) parts.Add(current.ToString());
        return parts;
    }
}
