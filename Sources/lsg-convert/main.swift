import LSGConvertCLI

await LSGConvertCommand.main()
