namespace CharacterGen.GraphRuntime;
