// Passkey progressive enrollment.
// Step 1 offers a passkey besides the password and the email code.  A user who asks to enrol a
// passkey ('Sign in with a passkey' without having one) first signs in with one of the OTHER
// options of step 1 (the passkey is filtered out of them), then registers a passkey in the
// same step, forced to run again with the passkey alone.
var passkeyAuthenticator = 'FIDOAuthenticator';

var onLoginRequest = function (context) {
    executeStep(1, {
        onFail: function (context) {
            var scenario = context.request.params.scenario;
            if (scenario == null || scenario[0] !== 'INIT_FIDO_ENROLL') {
                Log.info('The ' + context.currentStep.options.length + '-option step failed without an enrollment request.');
                return;
            }
            var otherOptions = filterAuthenticators(context.steps[1].options, passkeyAuthenticator);
            executeStep(1, {
                stepOptions: {markAsSubjectIdentifierStep: 'true'},
                authenticationOptions: otherOptions
            }, {
                onSuccess: function (context) {
                    executeStep(1, {
                        stepOptions: {forceAuth: 'true'},
                        authenticationOptions: [{authenticator: passkeyAuthenticator}],
                        authenticatorParams: {local: {FIDOAuthenticator: {enrollPasskey: 'true'}}}
                    }, {});
                }
            });
        }
    });
};
