namespace CharacterGen.Nodes;
