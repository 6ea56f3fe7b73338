namespace CharacterGen.Diffusion;
