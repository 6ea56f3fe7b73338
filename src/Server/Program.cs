using CharacterGen.Server.Cli;

return await CliApp.RunAsync(args);
