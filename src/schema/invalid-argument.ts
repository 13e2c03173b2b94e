import { GraphQLError } from 'graphql';

/** Bad input the client can fix: names the argument (or input field path) at fault. */
export function invalidArgument(argumentName: string, message: string): GraphQLError {
  return new GraphQLError(`Invalid argument "${argumentName}": ${message}`, {
    extensions: { code: 'BAD_USER_INPUT', argumentName },
  });
}
