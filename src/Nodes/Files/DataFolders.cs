namespace CharacterGen.Nodes.Files;

/// <summary>
/// The server's own folders under its data directory, laid out as ComfyUI's: input/ (uploads and images workflows
/// read), output/ (saved images), temp/ (previews). Created on first use.
/// </summary>
public sealed class DataFolders
{
    public DataFolders(string dataDirectory)
    {
        Root = Path.GetFullPath(dataDirectory);
        Input = Path.Combine(Root, "input");
        Output = Path.Combine(Root, "output");
        Temp = Path.Combine(Root, "temp");
        Assets = Path.Combine(Root, "assets");
    }

    /// <summary>Explicit folders (the `run` CLI's --input and --out); <see cref="Root"/> is the output's parent.</summary>
    public DataFolders(string input, string output, string temp)
    {
        Input = Path.GetFullPath(input);
        Output = Path.GetFullPath(output);
        Temp = Path.GetFullPath(temp);
        Root = Path.GetDirectoryName(Output) ?? Output;
        Assets = Path.Combine(Root, "assets");
    }

    public string Root { get; }
    public string Input { get; }
    public string Output { get; }
    public string Temp { get; }

    /// <summary>
    /// The server's content-addressed asset store (files uploaded with Assets.Upload): &lt;id[0:2]&gt;/&lt;id&gt;. Workflows
    /// read an asset as LoadImage's "&lt;id&gt; [asset]".
    /// </summary>
    public string Assets { get; }

    /// <summary>The folder for ComfyUI's type names "input", "output" and "temp".</summary>
    public string ForType(string type) => type switch
    {
        "input" => Input,
        "output" => Output,
        "temp" => Temp,
        _ => throw new ArgumentException($"folder type must be input, output or temp, not '{type}'"),
    };

    public void EnsureCreated()
    {
        Directory.CreateDirectory(Input);
        Directory.CreateDirectory(Output);
        Directory.CreateDirectory(Temp);
    }
}
